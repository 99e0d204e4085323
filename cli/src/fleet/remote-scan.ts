/**
 * A scan by the fleet, for `vigil remote-scan`: `POST /api/v1/scans` (priority `ci`), then
 * `GET /api/v1/scans/{id}?wait=…` until the scan is final or the time is up, then the findings of that scan
 * (`GET /api/v1/images/{id}/findings`, every page) as a matched result the CLI's own policy and reports take.
 */
import type { Finding, VulnerabilityScanResult } from '@vigil/engine/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { callJson, type FleetTarget } from './client.js';
import { FleetError, isFleetError } from './errors.js';

/** The scan as the API answers it (control-plane/src/http/schemas.ts `Scan`). */
export interface RemoteScan {
  id: string;
  imageId: string;
  digest: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  dbVersion?: string;
  matchedDbVersion?: string | null;
  error?: { code: string; message: string } | null;
  createdAt: string;
  startedAt?: string | null;
  finishedAt?: string | null;
}

export interface RemoteImage {
  id: string;
  repository: string;
  tags?: string[];
}

/** The server's cap on one long poll (control-plane/src/services/wait.ts). */
const MAX_WAIT_SECONDS = 60;
/** failed polls in a row (network blips) before giving up */
const POLL_RETRIES = 3;
const FINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Requests the scan. An image the server cannot resolve (CP_IMAGE_UNRESOLVABLE) is a failed remote scan.
 * @throws CLI_REMOTE_SCAN_FAILED, CLI_SERVER_*
 */
export async function requestRemoteScan(
  target: FleetTarget,
  reference: string,
  force: boolean,
): Promise<{ scan: RemoteScan; image: RemoteImage; created: boolean }> {
  try {
    const { body } = await callJson<{ scan: RemoteScan; image: RemoteImage; created: boolean }>(
      target,
      'POST',
      '/scans',
      { image: reference, priority: 'ci', ...(force ? { force: true } : {}) },
    );
    return body;
  } catch (e) {
    if (isFleetError(e) && (e as { serverCode?: string }).serverCode === 'CP_IMAGE_UNRESOLVABLE') {
      throw new FleetError('CLI_REMOTE_SCAN_FAILED', `the fleet cannot scan ${reference}: ${e.message}`, {
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * Long-polls the scan until it is final; `deadline` is a Date.now() value.
 * @throws CLI_REMOTE_SCAN_TIMEOUT when the deadline passes first, CLI_SERVER_* after repeated failed polls
 */
export async function waitForRemoteScan(
  target: FleetTarget,
  scan: RemoteScan,
  deadline: number,
): Promise<RemoteScan> {
  let current = scan;
  let failures = 0;
  while (!FINAL.has(current.status)) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new FleetError(
        'CLI_REMOTE_SCAN_TIMEOUT',
        `scan ${scan.id} is still ${current.status} at the end of --timeout; it goes on in the fleet (GET /api/v1/scans/${scan.id})`,
      );
    }
    const wait = Math.max(1, Math.min(MAX_WAIT_SECONDS, Math.floor(left / 1000)));
    try {
      current = (
        await callJson<RemoteScan>(
          target,
          'GET',
          `/scans/${scan.id}?wait=${wait}`,
          undefined,
          (wait + 30) * 1000,
        )
      ).body;
      failures = 0;
    } catch (e) {
      const transient =
        isFleetError(e) && (e.code === 'CLI_SERVER_UNREACHABLE' || e.code === 'CLI_SERVER_ERROR');
      if (!transient || ++failures >= POLL_RETRIES) throw e;
      await sleep(Math.min(2_000 * failures, Math.max(0, deadline - Date.now())));
    }
  }
  return current;
}

/**
 * The findings of a completed scan (the image's latest completed scan, which this one is unless a newer scan of
 * the image completed meanwhile: `scanId` says which).
 */
export async function remoteFindings(
  target: FleetTarget,
  scan: RemoteScan,
): Promise<{ scanId: string | null; findings: Finding[] }> {
  const findings: Finding[] = [];
  let cursor: string | null = null;
  let scanId: string | null = null;
  do {
    const query: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { body } = await callJson<{ scanId: string | null; items: Finding[]; nextCursor: string | null }>(
      target,
      'GET',
      `/images/${scan.imageId}/findings?${query}`,
    );
    scanId ??= body.scanId;
    findings.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return { scanId, findings };
}

/** A completed remote scan as the matched result local scans produce (the fleet keeps the inventory). */
export function remoteResult(
  reference: string,
  scan: RemoteScan,
  findings: Finding[],
  db: { version: string; builtAt: string } | null,
): VulnerabilityScanResult {
  return {
    artifact: { name: reference, kind: 'registry', digest: scan.digest },
    packages: [],
    unknowns: [],
    status: 'succeeded',
    startedAt: scan.startedAt ?? scan.createdAt,
    finishedAt: scan.finishedAt ?? scan.createdAt,
    db,
    findings,
    remediations: [],
    warnings: [],
  };
}
