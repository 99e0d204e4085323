/** The logger factory's redaction, on the shapes credentials take in log records. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lazyChildLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

describe('createLogger', () => {
  it('redacts credentials in request headers, bodies, nested fields and gRPC metadata', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: {
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: {
            authorization: 'Bearer vgl_secret',
            cookie: 'vigil_session=s3cr3t',
            'x-csrf-token': 'c5rf',
            'user-agent': 'curl/8',
          },
        },
        body: { email: 'a@b.test', password: 'hunter2 hunter2' },
        token: 'vgl_top',
        created: { token: { id: 't1', name: 'ci' }, secret: 'vgl_once' },
        metadata: { authorization: 'Bearer vgl_grpc' },
        user: { session: { csrfToken: 'nested-csrf' } },
      },
      'request received',
    );
    logger
      .child({ component: 'http' })
      .info({ res: { headers: { 'set-cookie': ['vigil_session=x'] } } }, 'reply sent');
    const [first, second] = lines;
    expect({
      req: first!.req,
      body: first!.body,
      token: first!.token,
      created: first!.created,
      metadata: first!.metadata,
      user: first!.user,
      setCookie: (second!.res as { headers: unknown }).headers,
      component: second!.component,
    }).toEqual({
      req: {
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: {
          authorization: '[redacted]',
          cookie: '[redacted]',
          'x-csrf-token': '[redacted]',
          'user-agent': 'curl/8',
        },
      },
      body: { email: 'a@b.test', password: '[redacted]' },
      token: '[redacted]',
      created: { token: '[redacted]', secret: '[redacted]' },
      metadata: { authorization: '[redacted]' },
      user: { session: { csrfToken: '[redacted]' } },
      setCookie: { 'set-cookie': '[redacted]' },
      component: 'http',
    });
  });
});

describe('lazyChildLogger', () => {
  it('logs like a pino child (bindings, redaction) and is made only when an enabled level is used', () => {
    const { lines, logger } = capture();
    logger.level = 'warn';
    let made = 0;
    const parent = Object.assign(Object.create(logger) as typeof logger, {
      child: (...args: Parameters<typeof logger.child>) => (made++, logger.child(...args)),
    });
    const log = lazyChildLogger(parent, { reqId: 'req-1' }, {});
    log.info({ token: 'vgl_secret' }, 'not logged');
    log.debug('not logged');
    expect({ made, lines: lines.length, level: log.level }).toEqual({ made: 0, lines: 0, level: 'warn' });
    log.error({ token: 'vgl_secret', code: 'CP_X' }, 'request failed');
    log.warn('again');
    expect(made).toBe(1);
    expect(lines.map(({ time: _t, pid: _p, hostname: _h, ...rest }) => rest)).toEqual([
      {
        level: 50,
        service: 'vigil-control-plane',
        reqId: 'req-1',
        token: '[redacted]',
        code: 'CP_X',
        msg: 'request failed',
      },
      { level: 40, service: 'vigil-control-plane', reqId: 'req-1', msg: 'again' },
    ]);
  });
});
