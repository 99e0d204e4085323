/**
 * The control plane's pino logger factory (STYLE §2.5): redaction paths are configured here, once, so no
 * credential reaches a log line: authorization headers, cookies and Set-Cookie, CSRF tokens, passwords, API
 * token secrets and session secrets, at any of the depths they appear in request logs and error objects.
 * Components take child loggers (`logger.child({ component: 'http' })`).
 */
import { pino, type ChildLoggerOptions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

const SECRET_FIELDS = ['password', 'passwordHash', 'token', 'secret', 'csrfToken', 'authorization', 'cookie'];

/** Paths pino replaces with `[redacted]`. */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'metadata.authorization',
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

export interface LoggerConfig {
  /** default `info` */
  level?: LoggerOptions['level'];
  /** default stdout */
  destination?: DestinationStream;
}

interface RequestLike {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  ip?: string;
  socket?: { remoteAddress?: string };
}

/** A logger with the control plane's redaction and serializers. */
export function createLogger(config: LoggerConfig = {}): Logger {
  return pino(
    {
      level: config.level ?? 'info',
      base: { service: 'vigil-control-plane' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      serializers: {
        req: (req: RequestLike) => ({
          method: req.method,
          url: req.url,
          headers: req.headers,
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
        }),
        err: pino.stdSerializers.err,
      },
    },
    config.destination,
  );
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * Fastify's `childLoggerFactory`: the request's logger (`request.log`, bound to its `reqId`) is made only when
 * something is logged at an enabled level. pino applies the redaction paths to a child's bindings when it is
 * created, which cost about 0.1 ms a request (docs/performance.md, Platform) although at `warn` and above a
 * successful request logs nothing.
 */
export function lazyChildLogger(
  logger: Logger,
  bindings: Record<string, unknown>,
  options: ChildLoggerOptions,
): Logger {
  let child: Logger | undefined;
  const real = (): Logger => (child ??= logger.child(bindings, options));
  const lazy: Record<string, unknown> = {
    get level() {
      return child?.level ?? logger.level;
    },
    set level(level: string) {
      real().level = level;
    },
    silent: () => undefined,
    child: (more: Record<string, unknown>, opts?: ChildLoggerOptions) => real().child(more, opts),
    isLevelEnabled: (level: string) => (child ?? logger).isLevelEnabled(level),
    bindings: () => real().bindings(),
  };
  for (const level of LEVELS) {
    lazy[level] = (...args: unknown[]) => {
      if (!(child ?? logger).isLevelEnabled(level)) return;
      (real()[level] as (...a: unknown[]) => void)(...args);
    };
  }
  return lazy as unknown as Logger;
}
