/**
 * Location of the shared real-world data set (../shared/realdata beside the checkout).
 * Tests that need it use `describe.skipIf(!hasRealdata)` so a checkout without it says why.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REALDATA = process.env.VIGIL_REALDATA ?? resolve(REPO_ROOT, '../shared/realdata');
export const hasRealdata = existsSync(join(REALDATA, 'PROVENANCE.md'));

/** Absolute path of a file in the realdata set, e.g. `realdata('pkgdb/apk/syft-installed-base')`. */
export function realdata(rel: string): string {
  return join(REALDATA, rel);
}

if (!hasRealdata) {
  process.stderr.write(`realdata not found at ${REALDATA}: tests that need it are skipped\n`);
}
