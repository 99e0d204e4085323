/**
 * Reading one worker Report stream (WorkerService.Report): the protocol checks and the rows it carries.
 * The first event is `started`; every message names the same scan and attempt; inventory and findings chunks
 * arrive in seq order (0, 1, 2 … each); exactly one final event (completed, failed or cancelled) ends it.
 * Chunk rows are buffered and appended to the analytics store under (scan, attempt) together, both tables at once
 * (invisible until published): when the final event arrives, or earlier whenever `flushRows` rows are waiting, so a
 * small scan costs one insert per table however many chunks it came in, and a large one's memory stays bounded.
 * A report that ends failed or cancelled, or breaks the protocol, appends only what an earlier flush wrote.
 * With the store's batch form, the rows are counted as they are appended (analytics/attempt-counts.ts) and a
 * completed report's outcome carries the counts, so publishing the attempt with them runs no count query: the
 * stream is the only writer of its attempt (a second stream of an attempt is refused before it reads anything).
 * A completed report still held whole at its end, of a known image digest, is stored content-addressed instead
 * (`storeAttemptRows`): rows identical to a published attempt's of that digest are not written again, and the
 * outcome says where they are (`contents`).
 * A protocol violation is CP_INVALID_ARGUMENT; totals that do not match the chunks are a *truncated* report,
 * returned as such for the caller to fail the scan with.
 */
import type { Finding, OsRelease, Package } from '@vigil/engine/core';
import type {
  ReportCancelled,
  ReportCompleted,
  ReportFailed,
  ReportRequest,
} from '@vigil/proto/v1/worker_pb';
import { AttemptCounter, type AttemptCounts } from '../analytics/attempt-counts.js';
import type { AnalyticsStore, AttemptContents } from '../analytics/types.js';
import { ControlPlaneError } from '../errors.js';
import type { ScanEventBus } from '../services/events.js';
import { findingFromWire, osFromWire, packageFromWire } from './mapping.js';

/** The final event of a stream. */
export type ReportFinal =
  | { case: 'completed'; value: ReportCompleted }
  | { case: 'failed'; value: ReportFailed }
  | { case: 'cancelled'; value: ReportCancelled };

/** What a whole stream delivered after its `started` event. */
export interface ReportOutcome {
  final: ReportFinal;
  os: OsRelease | null;
  /** set when the completed event's totals disagree with the chunks received */
  truncated: string | null;
  /**
   * A completed, untruncated attempt's counts, taken from its rows as this stream appended them (stores with
   * `appendBatch`): publish them with the attempt (`PublishScan.counted`) instead of counting the stored rows.
   */
  counts?: AttemptCounts;
  /**
   * Where the attempt's rows are, when the whole report was still in hand at its end and the store stored it
   * content-addressed (`storeAttemptRows`): publish the attempt with it (`PublishScan.contents`).
   */
  contents?: AttemptContents;
}

export interface ReportTarget {
  orgId: string;
  scanId: string;
  attempt: number;
  /** the scanned image's digest: a report held whole until its end reuses identical rows of this digest */
  digest?: string;
}

function invalid(problem: string): ControlPlaneError {
  return new ControlPlaneError('CP_INVALID_ARGUMENT', `report stream: ${problem}`);
}

const SEVERITY_KEYS = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

/** How the completed event's totals differ from what arrived (null: they match). */
function mismatch(completed: ReportCompleted, got: Tally): string | null {
  const claimed = {
    packages: completed.packages,
    findings: completed.findings,
    inventoryChunks: completed.inventoryChunks,
    findingsChunks: completed.findingsChunks,
    ...Object.fromEntries(SEVERITY_KEYS.map((k) => [k, completed.counts?.[k] ?? 0])),
    total: completed.counts?.total ?? 0,
  };
  const actual: Record<string, number> = {
    ...got.counts,
    packages: got.packages,
    findings: got.findings,
    inventoryChunks: got.inventoryChunks,
    findingsChunks: got.findingsChunks,
    total: got.findings,
  };
  const wrong = Object.keys(claimed).filter((k) => claimed[k as keyof typeof claimed] !== actual[k]);
  if (wrong.length === 0) return null;
  return `report truncated: ${wrong.map((k) => `${k} ${claimed[k as keyof typeof claimed]} claimed, ${actual[k]} received`).join('; ')}`;
}

interface Tally {
  packages: number;
  findings: number;
  inventoryChunks: number;
  findingsChunks: number;
  counts: Record<(typeof SEVERITY_KEYS)[number], number>;
}

/** Rows buffered before they are appended at once (about five chunks of the worker's default 1,000 items). */
export const DEFAULT_FLUSH_ROWS = 5_000;

/**
 * Appends one attempt's buffered packages and findings: one call when the store batches (counting the rows with
 * `counter` when given), else both at once.
 */
function appendRows(
  analytics: AnalyticsStore,
  target: ReportTarget,
  packages: Package[],
  findings: Finding[],
  counter: AttemptCounter | null,
): Promise<unknown> {
  const { orgId, scanId, attempt } = target;
  if (analytics.appendBatch)
    return analytics.appendBatch(orgId, [
      { scanId, attempt, packages, findings, ...(counter ? { counter } : {}) },
    ]);
  return Promise.all([
    packages.length > 0 ? analytics.appendInventory(orgId, scanId, attempt, packages) : null,
    findings.length > 0 ? analytics.appendFindings(orgId, scanId, attempt, findings) : null,
  ]);
}

/**
 * Reads the rest of a stream whose `started` event was accepted, appending its rows. Resolves once the
 * client half-closed after exactly one final event; rejects with CP_INVALID_ARGUMENT for a protocol violation,
 * the analytics store's errors, or CP_CANCELLED when the worker went away.
 */
export async function readReport(
  requests: AsyncIterator<ReportRequest>,
  target: ReportTarget,
  deps: { analytics: AnalyticsStore; events: ScanEventBus; flushRows?: number },
): Promise<ReportOutcome> {
  const { orgId, scanId, attempt } = target;
  const flushRows = deps.flushRows ?? DEFAULT_FLUSH_ROWS;
  // counted through the batch form, which feeds the counter once a part's rows are inserted
  const counter = deps.analytics.appendBatch ? new AttemptCounter() : null;
  let packagesDue: Package[] = [];
  let findingsDue: Finding[] = [];
  let flushed = false;
  const flush = async (): Promise<void> => {
    if (packagesDue.length === 0 && findingsDue.length === 0) return;
    const [packages, findings] = [packagesDue, findingsDue];
    packagesDue = [];
    findingsDue = [];
    flushed = true;
    await appendRows(deps.analytics, target, packages, findings, counter);
  };
  const buffered = () => packagesDue.length + findingsDue.length;
  const tally: Tally = {
    packages: 0,
    findings: 0,
    inventoryChunks: 0,
    findingsChunks: 0,
    counts: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
  };
  let os: OsRelease | null = null;
  let final: ReportFinal | null = null;
  for (let next = await requests.next(); !next.done; next = await requests.next()) {
    const message = next.value;
    if (message.scanId !== scanId || message.attempt !== attempt) {
      throw invalid(`every message must name scan ${scanId} attempt ${attempt}`);
    }
    if (final)
      throw invalid(`${message.event.case ?? 'an empty message'} after the final ${final.case} event`);
    const event = message.event;
    switch (event.case) {
      case 'progress':
        deps.events.emit(orgId, {
          type: 'progress',
          scanId,
          stage: event.value.stage,
          done: Number(event.value.done),
          total: Number(event.value.total),
        });
        break;
      case 'inventory': {
        const chunk = event.value;
        if (chunk.seq !== tally.inventoryChunks)
          throw invalid(`inventory chunk ${chunk.seq} where ${tally.inventoryChunks} was due`);
        if (chunk.seq === 0) os = osFromWire(chunk.os);
        const packages = chunk.packages.map((p, i) =>
          packageFromWire(p, `inventory[${chunk.seq}].packages[${i}]`),
        );
        for (const p of packages) packagesDue.push(p);
        if (buffered() >= flushRows) await flush();
        tally.inventoryChunks += 1;
        tally.packages += packages.length;
        break;
      }
      case 'findings': {
        const chunk = event.value;
        if (chunk.seq !== tally.findingsChunks)
          throw invalid(`findings chunk ${chunk.seq} where ${tally.findingsChunks} was due`);
        const findings: Finding[] = chunk.findings.map((f, i) =>
          findingFromWire(f, `findings[${chunk.seq}].findings[${i}]`),
        );
        for (const f of findings) findingsDue.push(f);
        if (buffered() >= flushRows) await flush();
        for (const f of findings)
          tally.counts[f.severity.toLowerCase() as (typeof SEVERITY_KEYS)[number]] += 1;
        tally.findingsChunks += 1;
        tally.findings += findings.length;
        break;
      }
      case 'completed':
      case 'failed':
      case 'cancelled':
        final = event as ReportFinal;
        break;
      case 'started':
        throw invalid('a second started event');
      default:
        throw invalid('a message without an event');
    }
  }
  if (!final) throw invalid('the stream ended without a completed, failed or cancelled event');
  // a failed or cancelled attempt is never published: its rows would only take space
  if (final.case !== 'completed') return { final, os, truncated: null };
  const truncated = mismatch(final.value, tally);
  const { storeAttemptRows } = deps.analytics;
  if (truncated === null && !flushed && counter && target.digest !== undefined && storeAttemptRows) {
    // the whole report is in hand: stored content-addressed (a rescan of an unchanged image writes no rows)
    const contents = await storeAttemptRows.call(deps.analytics, orgId, target.digest, {
      scanId,
      attempt,
      packages: packagesDue,
      findings: findingsDue,
      counter,
    });
    return { final, os, truncated, counts: counter.counts(), contents };
  }
  await flush();
  // a truncated report fails its scan: nothing to publish
  if (counter && truncated === null) return { final, os, truncated, counts: counter.counts() };
  return { final, os, truncated };
}
