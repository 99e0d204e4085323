import { describe, expect, it } from 'vitest';
import { isControlPlaneError } from '../errors.js';
import { createInProcessQueue } from './in-process.js';
import { describeQueueBehaviour, scanJob } from './testdata/queue-behaviour.js';

const ACK_WAIT_MS = 200;

describeQueueBehaviour('in-process queue', {
  ackWaitMs: ACK_WAIT_MS,
  async create({ maxDeliver }) {
    const queue = createInProcessQueue({ ackWaitMs: ACK_WAIT_MS, maxDeliver });
    await queue.setup();
    return {
      dispatcher: queue,
      openSource: async (options) => queue.source(options),
      killSource: (source) => source.close(),
      close: () => queue.close(),
    };
  },
});

describe('in-process queue edges', () => {
  it('rejects_invalid_jobs_and_settings_with_codes', async () => {
    const queue = createInProcessQueue();
    const codeOf = async (work: () => unknown): Promise<string> => {
      try {
        await work();
        return 'no error';
      } catch (error) {
        return isControlPlaneError(error) ? `${error.code}: ${error.message}` : String(error);
      }
    };
    const noScanId = { ...scanJob('x'), scanId: '' };
    const badPriority = { ...scanJob('y'), priority: 'urgent' as never };
    const badDate = { ...scanJob('z'), queuedAt: new Date(Number.NaN) };
    const results = {
      noScanId: await codeOf(() => queue.publish([scanJob('ok'), noScanId])),
      badPriority: await codeOf(() => queue.publish([badPriority])),
      badDate: await codeOf(() => queue.publish([badDate])),
      nothingPublished: await queue.pending(),
      badSetting: await codeOf(() => createInProcessQueue({ maxDeliver: 0 })),
    };
    await queue.close();
    const afterClose = await codeOf(() => queue.publish([scanJob('late')]));
    expect({ ...results, afterClose }).toEqual({
      noScanId: 'CP_INVALID_ARGUMENT: scan job 1 () has no scan id',
      badPriority: 'CP_INVALID_ARGUMENT: scan job 0 (y) has an unknown priority "urgent"',
      badDate: 'CP_INVALID_ARGUMENT: scan job 0 (z) has no valid queuedAt',
      nothingPublished: 0,
      badSetting: 'CP_INVALID_ARGUMENT: queue setting maxDeliver must be a positive integer, got 0',
      afterClose: 'CP_QUEUE_UNAVAILABLE: the in-process work queue is closed',
    });
  });

  it('hands_jobs_to_waiting_sources_in_the_order_they_asked', async () => {
    const queue = createInProcessQueue();
    const sources = [queue.source(), queue.source(), queue.source()];
    const waiting = sources.map((s) => s.next(AbortSignal.timeout(5_000)));
    await queue.publish([scanJob('j1'), scanJob('j2'), scanJob('j3')]);
    const deliveries = await Promise.all(waiting);
    await Promise.all(deliveries.map((d) => d?.ack()));
    await queue.close();
    expect(deliveries.map((d) => d?.job.scanId)).toEqual(['j1', 'j2', 'j3']);
  });

  it('ignores_a_settle_after_the_first_and_a_stale_one_after_redelivery', async () => {
    const queue = createInProcessQueue({ ackWaitMs: 100 });
    await queue.publish([scanJob('once')]);
    const source = queue.source({ autoHeartbeat: false });
    const first = await source.next(AbortSignal.timeout(1_000));
    const second = await source.next(AbortSignal.timeout(2_000)); // the first deadline passed
    await first?.ack(); // stale: must not remove the job second holds
    const pendingWhileSecondHolds = await queue.pending();
    second?.nak(0);
    second?.term(); // ignored: nak came first
    const third = await source.next(AbortSignal.timeout(1_000));
    await third?.ack();
    await queue.close();
    expect({
      attempts: [first, second, third].map((d) => d?.attempt),
      pendingWhileSecondHolds,
    }).toEqual({ attempts: [1, 2, 3], pendingWhileSecondHolds: 0 });
  });
});
