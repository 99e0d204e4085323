import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/realdata.js';
import { CONTROL_PLANE_ERROR_CODES, ControlPlaneError, isControlPlaneError } from './errors.js';

describe('control-plane error catalogue', () => {
  it('documents every code in docs/errors.md and nothing stale', () => {
    const doc = readFileSync(`${REPO_ROOT}/docs/errors.md`, 'utf8');
    const documented = [...doc.matchAll(/^\| `(CP_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual([...CONTROL_PLANE_ERROR_CODES].sort());
  });

  it('has unique codes', () => {
    expect(new Set(CONTROL_PLANE_ERROR_CODES).size).toBe(CONTROL_PLANE_ERROR_CODES.length);
  });

  it('recognises errors from another copy of the module by brand', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('vigil.control-plane.error')]: true,
      code: 'CP_NOT_FOUND',
    });
    const own = new ControlPlaneError('CP_CONFLICT', 'taken');
    expect([
      isControlPlaneError(foreign),
      foreign instanceof ControlPlaneError,
      isControlPlaneError(new Error('y')),
      own instanceof ControlPlaneError,
      own.name,
      own.code,
    ]).toEqual([true, true, false, true, 'ControlPlaneError', 'CP_CONFLICT']);
  });
});
