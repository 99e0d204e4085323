import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/realdata.js';
import { WORKER_ERROR_CODES } from './errors.js';

describe('worker error catalogue', () => {
  it('documents every code in docs/errors.md and nothing stale', () => {
    const doc = readFileSync(`${REPO_ROOT}/docs/errors.md`, 'utf8');
    const documented = [...doc.matchAll(/^\| `(WRK_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
    expect({ documented, unique: new Set(WORKER_ERROR_CODES).size }).toEqual({
      documented: [...WORKER_ERROR_CODES].sort(),
      unique: WORKER_ERROR_CODES.length,
    });
  });
});
