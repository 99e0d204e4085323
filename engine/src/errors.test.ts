import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/realdata.js';
import { ENGINE_ERROR_CODES, EngineError, isEngineError } from './errors.js';

describe('engine error catalogue', () => {
  it('documents every code in docs/errors.md and nothing stale', () => {
    const doc = readFileSync(`${REPO_ROOT}/docs/errors.md`, 'utf8');
    const documented = [...doc.matchAll(/^\| `(ENG_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual([...ENGINE_ERROR_CODES].sort());
  });

  it('has unique codes', () => {
    expect(new Set(ENGINE_ERROR_CODES).size).toBe(ENGINE_ERROR_CODES.length);
  });

  it('recognises errors from another copy of the module by brand', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('vigil.engine.error')]: true,
      code: 'ENG_ABORTED',
    });
    expect([isEngineError(foreign), foreign instanceof EngineError, isEngineError(new Error('y'))]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
