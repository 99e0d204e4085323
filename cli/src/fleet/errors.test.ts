import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/support/realdata.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { FLEET_ERROR_CODES, FleetError, isFleetError } from './errors.js';

describe('CLI fleet error catalogue', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/errors.md`, 'utf8');
  const rows = [...doc.matchAll(/^\| `(CLI_[A-Z0-9_]+)` \|[^|]*\| (\d+) \|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);

  it('documents every code with the exit code it maps to, and nothing stale', () => {
    expect(rows.sort()).toEqual(
      FLEET_ERROR_CODES.map((code) => [code, exitCodeFor(new FleetError(code, 'x'))]).sort(),
    );
  });

  it('gives remote scans that fail, are cancelled or time out their own exit codes', () => {
    expect(
      ['CLI_REMOTE_SCAN_FAILED', 'CLI_REMOTE_SCAN_CANCELLED', 'CLI_REMOTE_SCAN_TIMEOUT'].map((c) =>
        exitCodeFor(new FleetError(c as 'CLI_REMOTE_SCAN_FAILED', 'x')),
      ),
    ).toEqual([EXIT.remoteFailed, EXIT.remoteCancelled, EXIT.remoteTimeout]);
  });

  it('recognises errors from another copy of the module by brand', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('vigil.cli.fleet.error')]: true,
      code: 'CLI_SERVER_FORBIDDEN',
    });
    expect([isFleetError(foreign), foreign instanceof FleetError, isFleetError(new Error('y'))]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
