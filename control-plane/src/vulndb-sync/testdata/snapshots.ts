/**
 * Test support (not built): snapshots and feed files for the database sync and rollout tests, made from the
 * demo feeds (control-plane/src/demo/feeds) with the engine's own offline build. `withExtraAdvisory` adds one
 * Alpine 3.11 advisory, CVE-2099-0001 fixed in pax-utils 1.2.4-r1, which the demo images' `scanelf 1.2.4-r0`
 * (source package pax-utils) is affected by: a database "with one more advisory".
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSnapshot } from '@vigil/engine/db';
import { DEMO_FEEDS_DIR } from '../../demo/vulndb.js';

export const EXTRA_CVE = 'CVE-2099-0001';
const SECDB = 'alpine-secdb-v3.11-main.json';

/** The demo Alpine 3.11 secdb, with the extra advisory when asked. */
export async function alpineSecdb(withExtraAdvisory: boolean): Promise<Buffer> {
  const doc = JSON.parse(await readFile(join(DEMO_FEEDS_DIR, SECDB), 'utf8')) as {
    packages: Array<{ pkg: { name: string; secfixes: Record<string, string[]> } }>;
  };
  if (withExtraAdvisory) doc.packages.push({ pkg: { name: 'pax-utils', secfixes: { '1.2.4-r1': [EXTRA_CVE] } } });
  return Buffer.from(JSON.stringify(doc, null, 2));
}

/** Builds a snapshot of the demo feeds (plus the extra advisory) at `out`; returns its version. */
export async function buildDemoSnapshot(out: string, withExtraAdvisory = false): Promise<string> {
  const feeds = await mkdtemp(join(tmpdir(), 'vigil-feeds-'));
  try {
    await cp(DEMO_FEEDS_DIR, feeds, { recursive: true });
    await writeFile(join(feeds, SECDB), await alpineSecdb(withExtraAdvisory));
    return (await buildSnapshot({ from: feeds, out })).meta.version;
  } finally {
    await rm(feeds, { recursive: true, force: true });
  }
}
