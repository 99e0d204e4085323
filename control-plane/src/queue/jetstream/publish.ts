/**
 * Publishing jobs to the stream: a sliding window of at most `maxInFlight` unconfirmed publishes (each waits for
 * its PubAck), issued in the given order, each with the job's message id (`Nats-Msg-Id`: the scan id, see
 * wire.ts `jobMessageId`), so a republish inside the duplicate window is acknowledged as a duplicate and not
 * stored twice. A publish that times
 * out or finds no stream (NATS restarting) is retried with the same id after a backoff; a retry that is then
 * reported duplicate counts as published, because its first try was stored. Retries may store a job after later
 * ones of the same call. A closed connection (shutdown) fails at once.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { ClosedConnectionError } from '@nats-io/transport-node';
import { ControlPlaneError } from '../../errors.js';
import { jobSubject, type QueueNames } from '../names.js';
import type { ScanJobMessage } from '../types.js';
import { encodeScanJob, jobMessageId, validateJobs } from '../wire.js';

export interface PublishSettings {
  /** unconfirmed publishes at once (default 256) */
  maxInFlight: number;
  /** how long to wait for one PubAck (default 5 s) */
  publishTimeoutMs: number;
  /** retries of one job before the call fails (default 6: about 13 s of backoff plus the timeouts) */
  publishRetries: number;
}

export const DEFAULT_PUBLISH_SETTINGS: Readonly<PublishSettings> = Object.freeze({
  maxInFlight: 256,
  publishTimeoutMs: 5_000,
  publishRetries: 6,
});

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 5_000;

/** Publishes every job or rejects with CP_QUEUE_UNAVAILABLE naming how many were stored. */
export async function publishJobs(
  js: JetStreamClient,
  names: QueueNames,
  jobs: readonly ScanJobMessage[],
  settings: PublishSettings,
): Promise<{ published: number; duplicates: number }> {
  validateJobs(jobs);
  let next = 0;
  let published = 0;
  let duplicates = 0;
  let failure: unknown = null;

  const publishOne = async (job: ScanJobMessage): Promise<void> => {
    const data = encodeScanJob(job);
    const subject = jobSubject(names, job.priority);
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await js.publish(subject, data, {
          msgID: jobMessageId(job),
          timeout: settings.publishTimeoutMs,
        });
        if (ack.duplicate && attempt === 0) duplicates++;
        else published++;
        return;
      } catch (error) {
        const hopeless = error instanceof ClosedConnectionError || failure !== null;
        if (hopeless || attempt >= settings.publishRetries) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt)),
        );
      }
    }
  };

  const lane = async (): Promise<void> => {
    while (failure === null && next < jobs.length) {
      const job = jobs[next++] as ScanJobMessage;
      try {
        await publishOne(job);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.maxInFlight, jobs.length) }, lane));

  if (failure !== null) {
    throw new ControlPlaneError(
      'CP_QUEUE_UNAVAILABLE',
      `the work queue stored ${published + duplicates} of ${jobs.length} jobs before failing: ${String(failure)}`,
      { cause: failure },
    );
  }
  return { published, duplicates };
}
