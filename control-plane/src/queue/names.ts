/**
 * Names of the work queue on NATS: the stream, the subjects and the durable consumers. The worker's
 * queue/jetstream/names.ts derives the same names from the same two settings (the packages share no code).
 *
 * - jobs: `<prefix>.jobs.<priority>` (`vigil.scans.jobs.manual|ci|scheduled`), captured by `<stream>`
 * - consumers: one durable pull consumer per priority, `jobs-<priority>`, filtered on its subject
 * - cancel: `<prefix>.cancel`, core NATS, heard by every worker
 */
import { ControlPlaneError } from '../errors.js';
import { SCAN_PRIORITIES, type ScanPriority } from '../services/types.js';

export interface QueueNames {
  /** JetStream stream name (default `VIGIL_SCANS`); tests use a unique one each */
  stream: string;
  /** subject prefix, one or more dot-separated tokens (default `vigil.scans`) */
  subjectPrefix: string;
}

export const DEFAULT_QUEUE_NAMES: Readonly<QueueNames> = Object.freeze({
  stream: 'VIGIL_SCANS',
  subjectPrefix: 'vigil.scans',
});

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** The names with defaults filled in; CP_INVALID_ARGUMENT for a name NATS would reject or misroute. */
export function queueNames(names: Partial<QueueNames> = {}): QueueNames {
  const resolved = { ...DEFAULT_QUEUE_NAMES, ...names };
  if (!STREAM_NAME.test(resolved.stream)) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `queue stream name "${resolved.stream}" is not a valid stream name`,
    );
  }
  if (!SUBJECT_PREFIX.test(resolved.subjectPrefix)) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `queue subject prefix "${resolved.subjectPrefix}" must be dot-separated tokens without wildcards`,
    );
  }
  return resolved;
}

export function jobSubject(names: QueueNames, priority: ScanPriority): string {
  return `${names.subjectPrefix}.jobs.${priority}`;
}

/** The subject filter that matches every job subject. */
export function jobSubjects(names: QueueNames): string {
  return `${names.subjectPrefix}.jobs.*`;
}

export function cancelSubject(names: QueueNames): string {
  return `${names.subjectPrefix}.cancel`;
}

export function consumerName(priority: ScanPriority): string {
  return `jobs-${priority}`;
}

/** The priority whose consumer has this name, or null for a consumer that is not the queue's. */
export function consumerPriority(name: string): ScanPriority | null {
  return SCAN_PRIORITIES.find((priority) => consumerName(priority) === name) ?? null;
}
