/**
 * The REST error model: the status table agrees with the HTTP column of docs/errors.md, and every kind of
 * thrown value becomes the documented `{code, message}` answer.
 */
import { readFileSync } from 'node:fs';
import { EngineError } from '@vigil/engine/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/support/realdata.js';
import { RateLimitedError } from '../auth/rate-limit.js';
import { ControlPlaneError } from '../errors.js';
import { HTTP_STATUS_BY_CODE, toHttpError } from './errors.js';

describe('HTTP status table', () => {
  it('answers each code with the status docs/errors.md documents ("—": never answered, 500 if it were)', () => {
    const doc = readFileSync(`${REPO_ROOT}/docs/errors.md`, 'utf8');
    const documented = Object.fromEntries(
      [...doc.matchAll(/^\| `(CP_[A-Z0-9_]+)` \| .* \| (\d{3}|—) \| [^|]* \|$/gm)].map((m) => [
        m[1],
        m[2] === '—' ? 500 : Number(m[2]),
      ]),
    );
    expect(HTTP_STATUS_BY_CODE).toEqual(documented);
  });
});

describe('toHttpError', () => {
  it('maps coded errors, Fastify request errors and bugs to {code, message}', () => {
    const fastify = (statusCode: number, message: string, extra: object = {}) =>
      Object.assign(new Error(message), { statusCode, ...extra });
    expect({
      coded: toHttpError(new ControlPlaneError('CP_NOT_FOUND', 'scan x not found')),
      limited: toHttpError(new RateLimitedError(42)),
      engine: toHttpError(new EngineError('ENG_SBOM_INVALID', 'not an SBOM')),
      validation: toHttpError(fastify(400, 'body/force must be boolean', { validation: [{}] })),
      tooLarge: toHttpError(fastify(413, 'Request body is too large')),
      mediaType: toHttpError(fastify(415, 'Unsupported Media Type: text/plain')),
      badJson: toHttpError(fastify(400, 'Unexpected end of JSON input')),
      serverSide: toHttpError(fastify(500, 'serializer broke')),
      bug: toHttpError(new TypeError('cannot read properties of undefined')),
      thrownString: toHttpError('nope'),
    }).toEqual({
      coded: { status: 404, body: { code: 'CP_NOT_FOUND', message: 'scan x not found' } },
      limited: {
        status: 429,
        body: { code: 'CP_RATE_LIMITED', message: 'too many failed logins; retry in 42 s' },
        retryAfter: 42,
      },
      engine: { status: 400, body: { code: 'ENG_SBOM_INVALID', message: 'not an SBOM' } },
      validation: {
        status: 400,
        body: { code: 'CP_INVALID_ARGUMENT', message: 'body/force must be boolean' },
      },
      tooLarge: { status: 413, body: { code: 'CP_PAYLOAD_TOO_LARGE', message: 'Request body is too large' } },
      mediaType: {
        status: 415,
        body: { code: 'CP_UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported Media Type: text/plain' },
      },
      badJson: {
        status: 400,
        body: { code: 'CP_INVALID_ARGUMENT', message: 'Unexpected end of JSON input' },
      },
      serverSide: { status: 500, body: { code: 'CP_INTERNAL', message: 'internal error' } },
      bug: { status: 500, body: { code: 'CP_INTERNAL', message: 'internal error' } },
      thrownString: { status: 500, body: { code: 'CP_INTERNAL', message: 'internal error' } },
    });
  });
});
