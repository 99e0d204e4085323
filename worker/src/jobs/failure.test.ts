import { EngineError } from '@vigil/engine/core';
import { describe, expect, it } from 'vitest';
import { WorkerError } from '../errors.js';
import { classifyFailure } from './failure.js';

describe('classifyFailure', () => {
  it.each([
    [
      new EngineError('ENG_REGISTRY_SERVER_ERROR', 'registry answered 503'),
      'ENG_REGISTRY_SERVER_ERROR',
      true,
    ],
    [new EngineError('ENG_REGISTRY_UNREACHABLE', 'connect ECONNREFUSED'), 'ENG_REGISTRY_UNREACHABLE', true],
    [new EngineError('ENG_REGISTRY_TIMEOUT', 'no answer in 30 s'), 'ENG_REGISTRY_TIMEOUT', true],
    [new EngineError('ENG_REGISTRY_RATE_LIMITED', '429'), 'ENG_REGISTRY_RATE_LIMITED', true],
    [new EngineError('ENG_CACHE_IO', 'disk full'), 'ENG_CACHE_IO', true],
    [new EngineError('ENG_REGISTRY_NOT_FOUND', 'manifest unknown'), 'ENG_REGISTRY_NOT_FOUND', false],
    [new EngineError('ENG_REGISTRY_UNAUTHORIZED', '401'), 'ENG_REGISTRY_UNAUTHORIZED', false],
    [new EngineError('ENG_IMAGE_ARCHIVE_CORRUPT', 'not a tar'), 'ENG_IMAGE_ARCHIVE_CORRUPT', false],
    [new EngineError('ENG_IMAGE_SOURCE_NOT_FOUND', 'no such file'), 'ENG_IMAGE_SOURCE_NOT_FOUND', false],
    [new WorkerError('WRK_SCAN_TIMEOUT', 'scan ran longer than 1800000 ms'), 'WRK_SCAN_TIMEOUT', true],
    [Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 'WRK_IO', true],
    [new TypeError("Cannot read properties of undefined (reading 'layers')"), 'WRK_INTERNAL', false],
    ['a thrown string', 'WRK_INTERNAL', false],
  ])('%s → %s, retryable %s', (error, code, retryable) => {
    expect(classifyFailure(error)).toEqual({ code, retryable, message: expect.any(String) });
  });

  it('keeps the engine message and says what an unexpected error was', () => {
    expect([
      classifyFailure(
        new EngineError('ENG_REGISTRY_NOT_FOUND', 'registry.example/app@sha256:ab: manifest unknown'),
      ).message,
      classifyFailure(new RangeError('Invalid array length')).message,
      classifyFailure(Object.assign(new Error('too many open files'), { code: 'EMFILE' })).message,
    ]).toEqual([
      'registry.example/app@sha256:ab: manifest unknown',
      'unexpected error: Invalid array length',
      'EMFILE: too many open files',
    ]);
  });
});
