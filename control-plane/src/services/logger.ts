/**
 * The logger the services take: pino's call shape (`log.info({ scanId }, 'scan publish failed')`, constant
 * messages, data in fields), so the composition root passes a pino child logger as is.
 */

/** A structural subset of a pino logger. */
export interface ServiceLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Discards everything (tests, callers without a logger). */
export const SILENT_LOGGER: ServiceLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
