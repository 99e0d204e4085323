/**
 * Fuzzing the policy inputs: ignore files (YAML and the trivy plain format) and VEX documents
 * (OpenVEX, CycloneDX VEX). Parsing and applying may only fail with ENG_POLICY_INVALID.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz, prng } from '../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import { isEngineError } from '../errors.js';
import { applyIgnoreFile, parseIgnoreFile } from './ignore-file.js';
import { mutateJson } from './testdata/json-mutate.js';
import { apk, finding, npm } from './testdata/findings.js';
import { applyVex, parseVex } from './vex.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const policyError = (e: unknown) => isEngineError(e) && e.code === 'ENG_POLICY_INVALID';
const summary = (failures: { iteration: number; error: unknown }[]) =>
  failures.map(
    (f) =>
      `#${f.iteration}: ${f.error instanceof Error ? `${f.error.name}: ${f.error.message}` : String(f.error)}`,
  );

const FINDINGS = [
  finding('CVE-2019-14697', apk('musl', '1.1.22-r3', 'musl')),
  finding('CVE-2019-1547', apk('libcrypto1.1', '1.1.1c-r0', 'openssl'), { aliases: ['GHSA-xxxx-yyyy-zzzz'] }),
  finding('CVE-2020-8203', npm('lodash', '4.17.15', 'tools/node_modules/lodash/package.json'), {
    aliases: ['GHSA-p6mc-m468-83gw'],
  }),
];
const ARTIFACT = 'pkg:oci/service@sha256:1111111111111111111111111111111111111111111111111111111111111111';

describe('ignore-file fuzzing', () => {
  const seeds = [
    readFileSync(join(TESTDATA, 'vigilignore.yaml')),
    readFileSync(join(TESTDATA, 'trivyignore.txt')),
    Buffer.from(
      '- CVE-2020-1\n- id: GHSA-p6mc-m468-83gw\n  purl: pkg:npm/lodash@4.17.15?x=y\n  paths: ["tools/[a-z]*/**", "?"]\n',
    ),
    Buffer.from('ignore: &a\n  - id: CVE-2019-14697\n    expires: 2030-01-01T00:00:00+01:00\n  - *a\n'),
  ];

  it('parses and applies 10,000 mutated files with only ENG_POLICY_INVALID', async () => {
    const now = new Date('2025-01-10T00:00:00Z');
    const failures = await fuzz(
      seeds,
      10_000,
      (input) => {
        const entries = parseIgnoreFile(input.toString('utf8'));
        const r = applyIgnoreFile(FINDINGS, entries, now);
        if (r.kept.length + r.ignored.length !== FINDINGS.length) throw new Error('findings lost');
      },
      { allowed: policyError, seed: 0x1a0e },
    );
    expect(summary(failures)).toEqual([]);
  });
});

describe('VEX fuzzing', () => {
  const files = [join(TESTDATA, 'openvex.json'), join(TESTDATA, 'cyclonedx-vex.json')];
  if (hasRealdata) files.push(realdata('feeds/ubuntu/vunnel-vex-CVE-2023-38545.json'));
  const seeds = files.map((f) => readFileSync(f));

  const run = (input: Buffer | string) => {
    const doc = parseVex(input, 'fuzz');
    const r = applyVex(FINDINGS, [doc], { artifactPurl: ARTIFACT });
    if (r.kept.length + r.suppressed.length !== FINDINGS.length) throw new Error('findings lost');
  };

  it('parses and applies 10,000 byte-mutated documents with only ENG_POLICY_INVALID', async () => {
    const failures = await fuzz(seeds, 10_000, run, { allowed: policyError, seed: 0x7e1 });
    expect(summary(failures)).toEqual([]);
  });

  it('parses and applies 5,000 structure-mutated documents with only ENG_POLICY_INVALID', () => {
    const rand = prng(0x5ec);
    const docs = seeds.map((s) => JSON.parse(s.toString('utf8')) as unknown);
    const failures: { iteration: number; error: unknown }[] = [];
    for (let i = 0; i < 5_000; i++) {
      try {
        run(JSON.stringify(mutateJson(docs[i % docs.length], rand)));
      } catch (error) {
        if (!policyError(error)) failures.push({ iteration: i, error });
      }
    }
    expect(summary(failures.slice(0, 5))).toEqual([]);
  });
});
