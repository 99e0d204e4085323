/**
 * Acceptance (issue #3): scoreCvss agrees with the base score NVD states for every vector in the
 * realdata NVD files, for every CVSS version present; the GHSA / OSV severity vectors all parse.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fuzz, prng } from '../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import { isEngineError } from '../errors.js';
import { scoreCvss } from './score.js';

function readJsonFiles(dir: string): Array<{ file: string; json: unknown }> {
  return readdirSync(dir)
    .filter((f) => /\.json(\.gz)?$/.test(f))
    .sort()
    .map((file) => {
      const raw = readFileSync(join(dir, file));
      return { file, json: JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) };
    });
}

function* objects(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) for (const v of value) yield* objects(v);
  else if (value && typeof value === 'object') {
    yield value as Record<string, unknown>;
    for (const v of Object.values(value)) yield* objects(v);
  }
}

interface NvdMetric {
  file: string;
  vector: string;
  version: string;
  baseScore: number;
  baseSeverity: string;
}

/** Every cvssMetricV2/V30/V31/V40 entry (pages, single `cve` objects, `vulnerabilities[]` elements). */
function nvdMetrics(): NvdMetric[] {
  const out: NvdMetric[] = [];
  for (const { file, json } of readJsonFiles(realdata('feeds/nvd'))) {
    for (const obj of objects(json)) {
      for (const key of ['cvssMetricV2', 'cvssMetricV30', 'cvssMetricV31', 'cvssMetricV40']) {
        const list = obj[key];
        if (!Array.isArray(list)) continue;
        for (const m of list as Array<{ cvssData: Record<string, unknown>; baseSeverity?: string }>) {
          out.push({
            file,
            vector: m.cvssData.vectorString as string,
            version: m.cvssData.version as string,
            baseScore: m.cvssData.baseScore as number,
            // v3.x / v4.0 state the severity in cvssData, v2 beside it
            baseSeverity: (m.cvssData.baseSeverity as string | undefined) ?? (m.baseSeverity as string),
          });
        }
      }
    }
  }
  return out;
}

describe.skipIf(!hasRealdata)('scoreCvss on realdata', () => {
  it('agrees with NVD on every stated base score and severity (226 v2.0, 4 v3.0, 421 v3.1, 2 v4.0)', () => {
    const metrics = nvdMetrics();
    const counts: Record<string, number> = {};
    const disagreements: unknown[] = [];
    for (const m of metrics) {
      counts[m.version] = (counts[m.version] ?? 0) + 1;
      const got = scoreCvss(m.vector);
      // Vigil has no NONE: a 0.0 score is LOW (see severity.ts)
      const severity = m.baseSeverity === 'NONE' ? 'LOW' : m.baseSeverity;
      if (got.version !== m.version || got.baseScore !== m.baseScore || got.severity !== severity)
        disagreements.push({ ...m, got });
    }
    expect(disagreements).toEqual([]);
    // counted independently with jq over the same files
    expect(counts).toEqual({ '2.0': 226, '3.0': 4, '3.1': 421, '4.0': 2 });
  });

  it('parses every GHSA / OSV severity vector, and agrees with the score GitHub states', () => {
    const found: Array<{ file: string; type: string; vector: string; stated?: number }> = [];
    for (const dir of ['feeds/ghsa', 'feeds/osv']) {
      for (const { file, json } of readJsonFiles(realdata(dir))) {
        for (const obj of objects(json)) {
          // OSV: severity: [{type: CVSS_V3 | CVSS_V4 | CVSS_V2, score: vector}]
          if (Array.isArray(obj.severity))
            for (const s of obj.severity as Array<{ type: string; score: string }>)
              if (s.type.startsWith('CVSS_V')) found.push({ file, type: s.type, vector: s.score });
          // GitHub advisory API: cvss: {score, vectorString}
          const cvss = obj.cvss as { score?: number; vectorString?: string | null } | undefined;
          if (cvss && typeof cvss === 'object' && typeof cvss.vectorString === 'string')
            found.push({ file, type: 'GHSA_API', vector: cvss.vectorString, stated: cvss.score });
        }
      }
    }
    const results = found.map((f) => {
      const got = scoreCvss(f.vector);
      const versionOk =
        f.type === 'GHSA_API' ||
        (f.type === 'CVSS_V3' && got.version.startsWith('3.')) ||
        (f.type === 'CVSS_V4' && got.version === '4.0') ||
        (f.type === 'CVSS_V2' && got.version === '2.0');
      return { ...f, versionOk, scoreOk: f.stated === undefined || f.stated === got.baseScore };
    });
    expect(results.filter((r) => !r.versionOk || !r.scoreOk)).toEqual([]);
    // 18 OSV CVSS_V3 entries + 1 GitHub API cvss object (full_ranges, 9.1), counted with jq
    expect(results.map((r) => r.type).sort()).toEqual([...Array(18).fill('CVSS_V3'), 'GHSA_API']);
  });

  it('fuzz: byte-mutated real vectors only ever throw ENG_CVSS_INVALID (12,000 inputs)', async () => {
    const seeds = [...new Set(nvdMetrics().map((m) => m.vector))].map((v) => Buffer.from(v));
    const failures = await fuzz(
      seeds,
      12_000,
      (input) => {
        const result = scoreCvss(input.toString('latin1'));
        if (!(result.baseScore >= 0 && result.baseScore <= 10))
          throw new Error(`score out of range: ${result.baseScore}`);
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_CVSS_INVALID' },
    );
    expect(failures).toEqual([]);
  });

  it('fuzz: metric-level mutations reach the scoring (12,000 inputs, over 3,000 of them valid)', () => {
    const vectors = [...new Set(nvdMetrics().map((m) => m.vector))];
    const values = [...new Set(vectors.flatMap((v) => v.split('/').map((s) => s.split(':')[1] ?? '')))];
    const prefixes = ['', 'CVSS:2.0/', 'CVSS:3.0/', 'CVSS:3.1/', 'CVSS:4.0/'];
    const rand = prng(0xc0ffee);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    let scored = 0;
    const failures: unknown[] = [];
    for (let i = 0; i < 12_000 && failures.length < 5; i++) {
      const seed = vectors[i % vectors.length]!;
      const prefix = /^CVSS:\d\.\d\//.exec(seed)?.[0] ?? '';
      const parts = seed.slice(prefix.length).split('/');
      const op = Math.floor(rand() * 5);
      const at = Math.floor(rand() * parts.length);
      if (op === 0) parts[at] = `${parts[at]!.split(':')[0]}:${pick(values)}`;
      else if (op === 1) parts.splice(at, 1);
      else if (op === 2) parts.push(pick(parts));
      else if (op === 3) parts.sort(() => rand() - 0.5);
      const input = (op === 4 ? pick(prefixes) : prefix) + parts.join('/');
      try {
        const result = scoreCvss(input);
        if (!(result.baseScore >= 0 && result.baseScore <= 10)) throw new Error(`score out of range`);
        scored++;
      } catch (e) {
        if (!(isEngineError(e) && e.code === 'ENG_CVSS_INVALID')) failures.push({ input, e });
      }
    }
    expect(failures).toEqual([]);
    expect(scored).toBeGreaterThan(3_000);
  });
});
