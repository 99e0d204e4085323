import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer } from '../../types.js';
import { cargoLockAnalyzer } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const crates = (pairs: [string, string][]) =>
  pairs.map(([name, version]) => ({
    name,
    version,
    ecosystem: 'cargo',
    foundBy: 'lang/cargo-lock',
    declared: true,
  }));
const analyzeFile = (file: string, path = 'Cargo.lock') =>
  cargoLockAnalyzer.analyze(inputFromBuffer(path, readFileSync(file)));

describe('cargoLockAnalyzer.required', () => {
  it.each([
    ['Cargo.lock', true],
    ['src/app/Cargo.lock', true],
    ['src/app/Cargo.toml', false],
    ['src/app/cargo.lock', false],
    ['src/app/MyCargo.lock', false],
    ['src/app/Cargo.lock.orig', false],
  ])('%s → %s', (path, want) => {
    expect(cargoLockAnalyzer.required(path, { size: 1, mode: 0o644 })).toBe(want);
  });
});

describe('cargoLockAnalyzer.analyze (own fixtures)', () => {
  it('V3 workspace: members and path dependencies skipped, git and alternative registry kept', async () => {
    expect(await analyzeFile(join(TESTDATA, 'workspace/Cargo.lock'))).toEqual({
      // app, app-core and local-utils have no source
      packages: crates([
        ['hyper', '1.0.0-rc.2'],
        ['internal-crate', '2.4.0'],
        ['serde', '1.0.152'],
        ['time', '0.1.45'],
        ['time', '0.3.17'],
      ]),
    });
  });

  it('V1 with [root] and [metadata]', async () => {
    expect(await analyzeFile(join(TESTDATA, 'v1/Cargo.lock'))).toEqual({
      packages: crates([
        ['libc', '0.2.40'],
        ['rand', '0.4.2'],
      ]),
    });
  });

  it.each([
    ['version = 4\n', { packages: [] }],
    [
      '[[package]]\nname = "ok"\nversion = "1.0.0"\nsource = "registry+x"\n\n[[package]]\nname = "no-version"\nsource = "registry+x"\n\n[[package]]\nname = "bad"\nversion = "1.0"\nsource = "registry+x"\n',
      {
        packages: crates([['ok', '1.0.0']]),
        unknowns: [
          {
            path: 'Cargo.lock',
            source: 'lang/cargo-lock',
            message: 'Cargo.lock: 2 [[package]] table(s) without a valid name and version skipped',
          },
        ],
      },
    ],
    [
      'package = "x"\n',
      {
        unknowns: [
          {
            path: 'Cargo.lock',
            source: 'lang/cargo-lock',
            message: 'Cargo.lock: "package" is not an array of tables',
          },
        ],
      },
    ],
    [
      '[[package]\n',
      {
        unknowns: [
          {
            path: 'Cargo.lock',
            source: 'lang/cargo-lock',
            message: expect.stringMatching(/^Cargo\.lock: invalid TOML: \S/),
          },
        ],
      },
    ],
  ])('%j', async (text, want) => {
    expect(await cargoLockAnalyzer.analyze(inputFromBuffer('Cargo.lock', Buffer.from(text)))).toEqual(want);
  });
});

describe.skipIf(!hasRealdata)('cargoLockAnalyzer.analyze (realdata)', () => {
  it('pkgdb/rust/syft-Cargo.lock (V2: no version key, inline checksums)', async () => {
    expect(await analyzeFile(realdata('pkgdb/rust/syft-Cargo.lock'))).toEqual({
      packages: crates([
        ['ansi_term', '0.12.1'],
        ['errno', '0.3.9'],
        ['matches', '0.1.8'],
        ['memchr', '2.3.3'],
        ['natord', '1.0.9'],
        ['nom', '4.2.3'],
        ['schannel', '0.1.26'],
        ['unicode-bidi', '0.3.4'],
        ['version_check', '0.1.5'],
        ['winapi', '0.3.9'],
        ['winapi-i686-pc-windows-gnu', '0.4.0'],
        ['winapi-x86_64-pc-windows-gnu', '0.4.0'],
        ['windows-sys', '0.52.0'],
        ['windows-sys', '0.59.0'],
      ]),
    });
  });

  it('pkgdb/rust/syft-Cargo.lock-with-git-deps (V3: root crate skipped, registry+git regex reported once)', async () => {
    expect(await analyzeFile(realdata('pkgdb/rust/syft-Cargo.lock-with-git-deps'))).toEqual({
      // hello_world has no source; regex, regex-automata and regex-syntax are locked from both
      // crates.io and git at the same versions
      packages: crates([
        ['aho-corasick', '1.1.3'],
        ['memchr', '2.7.4'],
        ['minimal-lexical', '0.2.1'],
        ['nom', '7.1.3'],
        ['nom-regex', '0.2.0'],
        ['regex', '1.11.1'],
        ['regex-automata', '0.4.9'],
        ['regex-syntax', '0.8.5'],
      ]),
    });
  });

  it('pkgdb/rust/osvscanner-Cargo.lock-deprecated-novuln (V4)', async () => {
    expect(await analyzeFile(realdata('pkgdb/rust/osvscanner-Cargo.lock-deprecated-novuln'))).toEqual({
      // rust_novuln_deprecated 0.1.0 (the project itself, no source) is skipped
      packages: crates([
        ['displaydoc', '0.2.5'],
        ['form_urlencoded', '1.2.2'],
        ['icu_collections', '2.1.1'],
        ['icu_locale_core', '2.1.1'],
        ['icu_normalizer', '2.1.1'],
        ['icu_normalizer_data', '2.1.1'],
        ['icu_properties', '2.1.1'],
        ['icu_properties_data', '2.1.1'],
        ['icu_provider', '2.1.1'],
        ['idna', '1.1.0'],
        ['idna_adapter', '1.2.1'],
        ['litemap', '0.8.1'],
        ['percent-encoding', '2.3.2'],
        ['potential_utf', '0.1.4'],
        ['proc-macro2', '1.0.103'],
        ['quote', '1.0.42'],
        ['serde', '1.0.228'],
        ['serde_core', '1.0.228'],
        ['serde_derive', '1.0.228'],
        ['smallvec', '1.15.1'],
        ['stable_deref_trait', '1.2.1'],
        ['syn', '2.0.111'],
        ['synstructure', '0.13.2'],
        ['tinystr', '0.8.2'],
        ['unicode-ident', '1.0.22'],
        ['url', '2.5.3'],
        ['utf8_iter', '1.0.4'],
        ['writeable', '0.6.2'],
        ['yoke', '0.8.1'],
        ['yoke-derive', '0.8.1'],
        ['zerofrom', '0.1.6'],
        ['zerofrom-derive', '0.1.6'],
        ['zerotrie', '0.2.3'],
        ['zerovec', '0.11.5'],
        ['zerovec-derive', '0.11.2'],
      ]),
    });
  });
});

describe('cargoLockAnalyzer fuzz', () => {
  it('never rejects on mutated lock files (10,000 inputs)', async () => {
    const seeds = [
      readFileSync(join(TESTDATA, 'workspace/Cargo.lock')),
      readFileSync(join(TESTDATA, 'v1/Cargo.lock')),
    ];
    if (hasRealdata) {
      for (const f of [
        'syft-Cargo.lock',
        'syft-Cargo.lock-with-git-deps',
        'osvscanner-Cargo.lock-deprecated-novuln',
      ]) {
        seeds.push(readFileSync(realdata(`pkgdb/rust/${f}`)));
      }
    }
    const failures = await fuzz(seeds, 10_000, async (buf) => {
      const result = await cargoLockAnalyzer.analyze(inputFromBuffer('Cargo.lock', buf));
      for (const p of result.packages ?? []) {
        if (!p.name || !p.version) throw new Error(`bad package ${JSON.stringify(p)}`);
      }
    });
    expect(failures).toEqual([]);
  });
});
