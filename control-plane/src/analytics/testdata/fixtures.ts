/**
 * Test support (not built): a migrated analytics store on chdb in a fresh temporary directory (one per test file:
 * vitest runs each file in its own process, and chdb holds one data directory per process), and small
 * hand-made packages and findings for whole-structure assertions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding, Package, Severity } from '@vigil/engine';
import { createAnalyticsStore } from '../index.js';
import type { ClickHouseAnalyticsStore } from '../store.js';

export interface TestStore {
  store: ClickHouseAnalyticsStore;
  dir: string;
  /** Closes the store and removes its directory. */
  dispose(): Promise<void>;
}

export async function openTestStore(): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-analytics-'));
  const store = await createAnalyticsStore({ path: join(dir, 'chdb') });
  await store.migrate();
  return {
    store,
    dir,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function pkg(name: string, version = '1.0.0', extra: Partial<Package> = {}): Package {
  return { name, version, ecosystem: 'deb', purl: `pkg:deb/debian/${name}@${version}`, foundBy: 'os/dpkg', ...extra };
}

export function finding(id: string, severity: Severity, p: Package, extra: Partial<Finding> = {}): Finding {
  return {
    id,
    aliases: [],
    package: p,
    installedVersion: p.version,
    fixedVersion: null,
    status: 'unfixed',
    severity,
    severitySource: severity === 'UNKNOWN' ? 'none' : 'cvss:nvd@nist.gov',
    cvss: null,
    kev: false,
    epss: null,
    epssPercentile: null,
    title: `${id} in ${p.name}`,
    references: [],
    cwes: [],
    dataSources: [{ source: 'debian', namespace: 'debian:12', advisoryId: id }],
    ...extra,
  };
}

/** A fixable finding (fixed version known). */
export function fixable(f: Finding, fixedVersion = '9.9.9'): Finding {
  return { ...f, fixedVersion, status: 'fixed' };
}

/** Two packages and four findings of every severity but UNKNOWN (the critical one has a GHSA alias; two are fixable). */
export function sampleRows() {
  const openssl = pkg('openssl', '3.0.11-1');
  const zlib = pkg('zlib', '1.2.13');
  return {
    openssl,
    zlib,
    critical: fixable(finding('CVE-2024-0001', 'CRITICAL', openssl, { aliases: ['GHSA-2222-3333-4444'] })),
    high: finding('CVE-2024-0002', 'HIGH', openssl),
    medium: fixable(finding('CVE-2024-0003', 'MEDIUM', zlib)),
    low: finding('CVE-2024-0004', 'LOW', zlib),
  };
}
