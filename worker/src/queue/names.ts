/**
 * Names of the work queue on NATS, the same convention as the control plane's queue/names.ts (the packages
 * share no code): jobs on `<prefix>.jobs.<priority>` in stream `<stream>`, one durable pull consumer
 * `jobs-<priority>` per priority, cancel signals on `<prefix>.cancel`.
 */
import { JobQueueError } from './errors.js';
import type { JobPriority } from './types.js';

export interface QueueNames {
  /** JetStream stream name (default `VIGIL_SCANS`) */
  stream: string;
  /** subject prefix (default `vigil.scans`) */
  subjectPrefix: string;
}

export const DEFAULT_QUEUE_NAMES: Readonly<QueueNames> = Object.freeze({
  stream: 'VIGIL_SCANS',
  subjectPrefix: 'vigil.scans',
});

/** Highest first. */
export const JOB_PRIORITIES: readonly JobPriority[] = ['manual', 'ci', 'scheduled', 'rematch'];

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** The names with defaults filled in; JobQueueError `invalid-options` for a name NATS would reject. */
export function queueNames(names: Partial<QueueNames> = {}): QueueNames {
  const resolved = {
    stream: names.stream ?? DEFAULT_QUEUE_NAMES.stream,
    subjectPrefix: names.subjectPrefix ?? DEFAULT_QUEUE_NAMES.subjectPrefix,
  };
  if (!STREAM_NAME.test(resolved.stream)) {
    throw new JobQueueError(
      'invalid-options',
      `queue stream name "${resolved.stream}" is not a valid stream name`,
    );
  }
  if (!SUBJECT_PREFIX.test(resolved.subjectPrefix)) {
    throw new JobQueueError(
      'invalid-options',
      `queue subject prefix "${resolved.subjectPrefix}" must be dot-separated tokens without wildcards`,
    );
  }
  return resolved;
}

/** The subject filter that matches every job subject. */
export function jobSubjects(names: QueueNames): string {
  return `${names.subjectPrefix}.jobs.*`;
}

/** The priority of a job subject, or null for another subject. */
export function subjectPriority(names: QueueNames, subject: string): JobPriority | null {
  const prefix = `${names.subjectPrefix}.jobs.`;
  if (!subject.startsWith(prefix)) return null;
  return JOB_PRIORITIES.find((p) => p === subject.slice(prefix.length)) ?? null;
}

export function cancelSubject(names: QueueNames): string {
  return `${names.subjectPrefix}.cancel`;
}

export function consumerName(priority: JobPriority): string {
  return `jobs-${priority}`;
}
