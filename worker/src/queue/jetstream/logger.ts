/** The logger the queue takes: pino's call shape (constant message, data in fields); a pino logger fits as is. */
export interface QueueLogger {
  warn(fields: object, message: string): void;
}

export const SILENT_QUEUE_LOGGER: QueueLogger = { warn: () => {} };
