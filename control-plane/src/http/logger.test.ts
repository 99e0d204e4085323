/** The logger factory's redaction, on the shapes credentials take in log records. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

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
