/**
 * The worker's pino logger: JSON lines, constant messages with data in fields, and secrets
 * redacted by path once here (the worker token, registry credentials, authorization headers),
 * wherever they appear in a logged object.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths censored in every log line. */
export const REDACT_PATHS: readonly string[] = [
  'token',
  'password',
  'authorization',
  'auth',
  '*.token',
  '*.password',
  '*.authorization',
  '*.auth',
  '*.*.token',
  '*.*.password',
  '*.*.auth',
  'headers.authorization',
  '*.headers.authorization',
];

export interface WorkerLoggerOptions {
  level?: string;
  /** default: stdout */
  destination?: DestinationStream;
}

/** A logger for the worker, `component: worker`. */
export function createWorkerLogger(options: WorkerLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: 'worker' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    },
    options.destination,
  );
}
