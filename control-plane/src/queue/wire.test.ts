/**
 * encodeScanJob writes a job's bytes directly; they must be protobuf-es's (`encodeScanJobGeneric`) byte for byte,
 * for every field's default and non-default values, long and non-ASCII strings (lone surrogates too), large
 * varints and dates before 1970, and decode back to the same job.
 */
import { describe, expect, it } from 'vitest';
import { SCAN_PRIORITIES } from '../services/types.js';
import type { ScanJobMessage } from './types.js';
import { decodeScanJob, encodeScanJob, encodeScanJobGeneric } from './wire.js';

/** A deterministic generator (xorshift), so a failure reproduces. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const PIECES = [
  '',
  'a',
  'sha256:',
  'registry.example/app',
  'é',
  'Ωmega',
  '日本',
  '\u{1F600}',
  '\ud800',
  '-',
  '0',
];

function jobs(count: number): ScanJobMessage[] {
  const next = random(12345);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const text = (max: number) => Array.from({ length: Math.floor(next() * max) }, () => pick(PIECES)).join('');
  const dates = [0, 999, 1_000, 1_764_000_000_123, 1_764_000_000_000, 253_402_300_799_999, -1, -86_400_001];
  return Array.from({ length: count }, (_, i) => ({
    scanId: i % 7 === 0 ? '' : crypto.randomUUID(),
    orgId: text(3),
    imageId: crypto.randomUUID(),
    imageRef: text(i % 5 === 0 ? 80 : 6),
    digest: `sha256:${'ab'.repeat(32)}`,
    dbVersion: text(2),
    priority: pick(SCAN_PRIORITIES),
    queuedAt: new Date(i % 3 === 0 ? pick(dates) : Math.floor(next() * 2 ** 42)),
    attemptBase: pick([0, 1, 127, 128, 16_384, 2 ** 31 - 1]),
    ...(i % 4 === 0 ? { rematch: i % 8 === 0 } : {}),
  }));
}

describe('encodeScanJob', () => {
  it("writes protobuf-es's bytes for 5,000 generated jobs", () => {
    const all = jobs(5_000);
    const differing = all.filter(
      (job) => Buffer.compare(Buffer.from(encodeScanJob(job)), Buffer.from(encodeScanJobGeneric(job))) !== 0,
    );
    expect({ jobs: all.length, differing: differing.slice(0, 3) }).toEqual({ jobs: 5_000, differing: [] });
  });

  it('decodes back to the job', () => {
    const job: ScanJobMessage = {
      scanId: '0b8f7c5e-0000-4000-8000-000000000001',
      orgId: '0b8f7c5e-0000-4000-8000-000000000002',
      imageId: '0b8f7c5e-0000-4000-8000-000000000003',
      imageRef: `registry.bench/p3/app-1@sha256:${'c'.repeat(64)}`,
      digest: `sha256:${'c'.repeat(64)}`,
      dbVersion: 'db-2026-11-27',
      priority: 'ci',
      queuedAt: new Date('2026-11-27T16:00:00.123Z'),
      attemptBase: 3,
    };
    expect(decodeScanJob(encodeScanJob(job))).toEqual(job);
  });
});
