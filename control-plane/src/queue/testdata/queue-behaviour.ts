/**
 * Test support (not built): the work queue's behaviour as one table of cases, run against every implementation
 * (in-process.test.ts; jetstream/jetstream.e2e.test.ts with the worker's JetStream source). A case gets a fresh
 * queue with its own names; sources are the worker's JobSource shape, declared here structurally.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ScanPriority } from '../../services/types.js';
import type { CancelMessage, DeadJob, JobDispatcher, ScanJobMessage } from '../types.js';

export interface DeliveryLike {
  job: ScanJobMessage;
  attempt: number;
  lastAttempt: boolean;
  working(): void;
  ack(): Promise<void>;
  nak(delayMs?: number): void;
  term(): void;
}

export interface SourceLike {
  next(signal: AbortSignal): Promise<DeliveryLike | null>;
  onCancel(listener: (signal: CancelMessage) => void): () => void;
  close(): Promise<void>;
}

export interface SourceOptions {
  autoHeartbeat?: boolean;
  lowerPriorityEvery?: number;
}

export interface QueueUnderTest {
  dispatcher: JobDispatcher;
  /** a new consumer, ready to hear cancel signals when it resolves */
  openSource(options?: SourceOptions): Promise<SourceLike>;
  /** the consumer disappears as in a crash: no ack, no heartbeat for what it holds */
  killSource(source: SourceLike): Promise<void>;
  close(): Promise<void>;
}

export interface QueueFactory {
  /** the ack deadline the factory's queues use (short, so redelivery tests are quick) */
  ackWaitMs: number;
  create(settings: { maxDeliver: number }): Promise<QueueUnderTest>;
}

export const QUEUED_AT = new Date('2026-01-02T03:04:05.000Z');

export function scanJob(scanId: string, priority: ScanPriority = 'manual'): ScanJobMessage {
  return {
    scanId,
    orgId: 'org-1',
    imageId: `image-${scanId}`,
    imageRef: `registry.example/app@sha256:${scanId}`,
    digest: `sha256:${scanId}`,
    dbVersion: 'db-1',
    priority,
    queuedAt: QUEUED_AT,
    attemptBase: 0,
  };
}

/** The next delivery within `ms`, or null. */
export function take(source: SourceLike, ms: number): Promise<DeliveryLike | null> {
  return source.next(AbortSignal.timeout(ms));
}

/** The first value `register` hands its listener. */
export function firstEvent<T>(register: (listener: (value: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const unsubscribe = register((value) => {
      unsubscribe();
      resolve(value);
    });
  });
}

/** Asks `source` for a job until `until` settles. */
export function takeUntil(source: SourceLike, until: Promise<unknown>): Promise<DeliveryLike | null> {
  const controller = new AbortController();
  void until.finally(() => controller.abort());
  return source.next(controller.signal);
}

function summary(delivery: DeliveryLike | null): { scanId: string; attempt: number; lastAttempt: boolean } | null {
  return delivery && { scanId: delivery.job.scanId, attempt: delivery.attempt, lastAttempt: delivery.lastAttempt };
}

/** Registers the shared cases for one implementation. */
export function describeQueueBehaviour(name: string, factory: QueueFactory): void {
  const ackWait = factory.ackWaitMs;
  // long enough that anything deliverable would be delivered, short enough to keep the suite quick
  const quiet = Math.max(300, ackWait / 2);

  describe(name, () => {
    const open: QueueUnderTest[] = [];
    const queue = async (maxDeliver = 5): Promise<QueueUnderTest> => {
      const created = await factory.create({ maxDeliver });
      open.push(created);
      return created;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('publishes_10000_jobs_then_drops_them_all_as_duplicates', async () => {
      const q = await queue();
      const priorities: ScanPriority[] = ['manual', 'ci', 'scheduled'];
      const jobs = Array.from({ length: 10_000 }, (_, i) => scanJob(`bulk-${i}`, priorities[i % 3]));
      const first = await q.dispatcher.publish(jobs);
      const pendingAfterFirst = await q.dispatcher.pending();
      const again = await q.dispatcher.publish(jobs);
      expect({ first, pendingAfterFirst, again, pending: await q.dispatcher.pending() }).toEqual({
        first: { published: 10_000, duplicates: 0 },
        pendingAfterFirst: 10_000,
        again: { published: 0, duplicates: 10_000 },
        pending: 10_000,
      });
    });

    it('drops_a_republished_scan_while_pending_in_flight_and_after_ack', async () => {
      const q = await queue();
      const source = await q.openSource();
      const twiceInOneCall = await q.dispatcher.publish([scanJob('a'), scanJob('a')]);
      const whilePending = await q.dispatcher.publish([scanJob('a')]);
      const delivery = await take(source, 5_000);
      const whileInFlight = await q.dispatcher.publish([scanJob('a')]);
      await delivery?.ack();
      const afterAck = await q.dispatcher.publish([scanJob('a'), scanJob('b')]);
      expect({ twiceInOneCall, whilePending, whileInFlight, afterAck, pending: await q.dispatcher.pending() }).toEqual({
        twiceInOneCall: { published: 1, duplicates: 1 },
        whilePending: { published: 0, duplicates: 1 },
        whileInFlight: { published: 0, duplicates: 1 },
        afterAck: { published: 1, duplicates: 1 },
        pending: 1,
      });
    });

    it('stores_a_requeued_copy_beside_the_first_job_and_continues_its_attempts', async () => {
      const q = await queue(2);
      const first = await q.dispatcher.publish([scanJob('again')]);
      const source = await q.openSource();
      const delivery = await take(source, 5_000);
      await delivery?.ack();
      // the scan went silent at attempt 3 and was re-queued inside the dedup window of its first job
      const copy = { ...scanJob('again'), attemptBase: 3 };
      const requeued = await q.dispatcher.publish([copy, copy]);
      const next = await take(source, 5_000);
      next?.nak(0);
      const last = await take(source, 5_000);
      await last?.ack();
      expect({ first, requeued, deliveries: [delivery, next, last].map(summary), job: last?.job }).toEqual({
        first: { published: 1, duplicates: 0 },
        requeued: { published: 1, duplicates: 1 },
        deliveries: [
          { scanId: 'again', attempt: 1, lastAttempt: false },
          { scanId: 'again', attempt: 4, lastAttempt: false },
          { scanId: 'again', attempt: 5, lastAttempt: true },
        ],
        job: copy,
      });
    });

    it('hands_out_manual_then_ci_then_scheduled_first_in_first_out', async () => {
      const q = await queue();
      await q.dispatcher.publish([
        scanJob('s1', 'scheduled'),
        scanJob('c1', 'ci'),
        scanJob('m1', 'manual'),
        scanJob('s2', 'scheduled'),
        scanJob('m2', 'manual'),
        scanJob('c2', 'ci'),
      ]);
      const source = await q.openSource({ lowerPriorityEvery: 0 });
      const order: string[] = [];
      for (let delivery = await take(source, quiet); delivery; delivery = await take(source, quiet)) {
        order.push(`${delivery.job.scanId}/${delivery.attempt}`);
        await delivery.ack();
      }
      expect(order).toEqual(['m1/1', 'm2/1', 'c1/1', 'c2/1', 's1/1', 's2/1']);
    });

    it('lets_a_lower_priority_through_every_nth_job', async () => {
      const q = await queue();
      await q.dispatcher.publish([
        ...['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => scanJob(id, 'manual')),
        scanJob('c1', 'ci'),
        scanJob('s1', 'scheduled'),
      ]);
      const source = await q.openSource({ lowerPriorityEvery: 3 });
      const order: string[] = [];
      for (let delivery = await take(source, quiet); delivery; delivery = await take(source, quiet)) {
        order.push(delivery.job.scanId);
        await delivery.ack();
      }
      expect(order).toEqual(['m1', 'm2', 'c1', 'm3', 'm4', 's1', 'm5']);
    });

    it('hands_the_full_job_to_the_worker', async () => {
      const q = await queue();
      await q.dispatcher.publish([scanJob('full', 'ci')]);
      const source = await q.openSource();
      const delivery = await take(source, 5_000);
      await delivery?.ack();
      expect(delivery?.job).toEqual(scanJob('full', 'ci'));
    });

    it('redelivers_the_job_of_a_dead_worker_with_the_next_attempt', async () => {
      const q = await queue();
      await q.dispatcher.publish([scanJob('crash')]);
      const doomed = await q.openSource();
      const first = await take(doomed, 5_000);
      await q.killSource(doomed);
      const survivor = await q.openSource();
      const second = await take(survivor, ackWait * 4 + 5_000);
      await second?.ack();
      expect([summary(first), summary(second)]).toEqual([
        { scanId: 'crash', attempt: 1, lastAttempt: false },
        { scanId: 'crash', attempt: 2, lastAttempt: false },
      ]);
    });

    it('working_keeps_a_long_job_from_being_redelivered', async () => {
      const q = await queue();
      await q.dispatcher.publish([scanJob('long')]);
      const worker = await q.openSource({ autoHeartbeat: false });
      const other = await q.openSource({ autoHeartbeat: false });
      const held = await take(worker, 5_000);
      const heartbeat = setInterval(() => held?.working(), ackWait / 4);
      const stolen = await take(other, ackWait * 3);
      clearInterval(heartbeat);
      await held?.ack();
      expect({ held: summary(held), stolen, pending: await q.dispatcher.pending() }).toEqual({
        held: { scanId: 'long', attempt: 1, lastAttempt: false },
        stolen: null,
        pending: 0,
      });
    });

    it('heartbeats_a_held_job_automatically', async () => {
      const q = await queue();
      await q.dispatcher.publish([scanJob('auto')]);
      const worker = await q.openSource();
      const other = await q.openSource();
      const held = await take(worker, 5_000);
      const stolen = await take(other, ackWait * 3);
      await held?.ack();
      expect({ held: summary(held), stolen }).toEqual({
        held: { scanId: 'auto', attempt: 1, lastAttempt: false },
        stolen: null,
      });
    });

    it('redelivers_after_a_nak_delay_and_never_after_term', async () => {
      const q = await queue();
      const deadJobs: DeadJob[] = [];
      q.dispatcher.onDeadJob((job) => deadJobs.push(job));
      await q.dispatcher.publish([scanJob('retry'), scanJob('poison')]);
      const source = await q.openSource({ lowerPriorityEvery: 0 });
      const retry = await take(source, 5_000);
      retry?.nak(ackWait / 2);
      const poison = await take(source, 5_000);
      poison?.term();
      const again = await take(source, ackWait * 4 + 5_000);
      await again?.ack();
      const after = await take(source, quiet);
      expect({
        deliveries: [retry, poison, again].map(summary),
        after,
        deadJobs,
        pending: await q.dispatcher.pending(),
      }).toEqual({
        deliveries: [
          { scanId: 'retry', attempt: 1, lastAttempt: false },
          { scanId: 'poison', attempt: 1, lastAttempt: false },
          { scanId: 'retry', attempt: 2, lastAttempt: false },
        ],
        after: null,
        deadJobs: [],
        pending: 0,
      });
    });

    // JetStream (2.9) gives up on a job when a consumer next asks for one, so a source keeps asking meanwhile
    it('reports_a_dead_job_after_its_last_nak', async () => {
      const q = await queue(2);
      const dead = firstEvent<DeadJob>((listener) => q.dispatcher.onDeadJob(listener));
      await q.dispatcher.publish([scanJob('ok'), scanJob('doomed', 'scheduled')]);
      const source = await q.openSource({ lowerPriorityEvery: 0 });
      const ok = await take(source, 5_000);
      await ok?.ack();
      const first = await take(source, 5_000);
      first?.nak(0);
      const last = await take(source, 5_000);
      last?.nak(0);
      const after = takeUntil(source, dead);
      expect({
        deliveries: [first, last].map(summary),
        deadJob: await dead,
        after: await after,
        pending: await q.dispatcher.pending(),
      }).toEqual({
        deliveries: [
          { scanId: 'doomed', attempt: 1, lastAttempt: false },
          { scanId: 'doomed', attempt: 2, lastAttempt: true },
        ],
        deadJob: { scanId: 'doomed', deliveries: 2, attemptBase: 0 },
        after: null,
        pending: 0,
      });
    });

    it('reports_a_dead_job_after_its_last_deadline', async () => {
      const q = await queue(2);
      const dead = firstEvent<DeadJob>((listener) => q.dispatcher.onDeadJob(listener));
      await q.dispatcher.publish([scanJob('silent')]);
      const source = await q.openSource({ autoHeartbeat: false });
      const first = await take(source, 5_000);
      const last = await take(source, ackWait * 4 + 5_000);
      const after = takeUntil(source, dead);
      expect({ deliveries: [first, last].map(summary), deadJob: await dead, after: await after }).toEqual({
        deliveries: [
          { scanId: 'silent', attempt: 1, lastAttempt: false },
          { scanId: 'silent', attempt: 2, lastAttempt: true },
        ],
        deadJob: { scanId: 'silent', deliveries: 2, attemptBase: 0 },
        after: null,
      });
    });

    it('broadcasts_a_cancel_to_every_source', async () => {
      const q = await queue();
      const sources = [await q.openSource(), await q.openSource()];
      const heard = Promise.all(sources.map((s) => firstEvent<CancelMessage>((listener) => s.onCancel(listener))));
      await q.dispatcher.cancel({ scanId: 'scan-9', orgId: 'org-1', reason: 'user cancelled' });
      expect(await heard).toEqual([
        { scanId: 'scan-9', orgId: 'org-1', reason: 'user cancelled' },
        { scanId: 'scan-9', orgId: 'org-1', reason: 'user cancelled' },
      ]);
    });

    it('resolves_next_with_null_on_abort_and_on_close', async () => {
      const q = await queue();
      const source = await q.openSource();
      const controller = new AbortController();
      const aborted = source.next(controller.signal);
      controller.abort();
      const closed = source.next(new AbortController().signal);
      await source.close();
      const afterClose = await source.next(new AbortController().signal);
      await q.dispatcher.publish([scanJob('unclaimed')]);
      expect({ aborted: await aborted, closed: await closed, afterClose, pending: await q.dispatcher.pending() }).toEqual(
        { aborted: null, closed: null, afterClose: null, pending: 1 },
      );
    });

    it('wakes_a_waiting_source_when_a_job_arrives', async () => {
      const q = await queue();
      const source = await q.openSource();
      const waiting = take(source, 30_000);
      await q.dispatcher.publish([scanJob('late', 'scheduled')]);
      const delivery = await waiting;
      await delivery?.ack();
      expect(summary(delivery)).toEqual({ scanId: 'late', attempt: 1, lastAttempt: false });
    });

    it('counts_pending_jobs_without_those_in_flight', async () => {
      const q = await queue();
      await q.dispatcher.publish([scanJob('p1'), scanJob('p2', 'ci'), scanJob('p3', 'scheduled')]);
      const source = await q.openSource();
      const delivery = await take(source, 5_000);
      const pending = await q.dispatcher.pending();
      await delivery?.ack();
      expect({ taken: delivery?.job.scanId, pending, afterAck: await q.dispatcher.pending() }).toEqual({
        taken: 'p1',
        pending: 2,
        afterAck: 2,
      });
    });
  });
}
