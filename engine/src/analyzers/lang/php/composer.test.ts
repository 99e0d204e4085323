import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer } from '../../types.js';
import { composerInstalledAnalyzer, composerLockAnalyzer } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const INFO = { size: 1, mode: 0o644 };
const installed = (name: string, version: string, extra: object = {}) => ({
  name,
  version,
  ecosystem: 'composer',
  foundBy: 'lang/composer-installed',
  ...extra,
});
const locked = (name: string, version: string, extra: object = {}) => ({
  name,
  version,
  ecosystem: 'composer',
  foundBy: 'lang/composer-lock',
  declared: true,
  ...extra,
});
const MIT = { licenses: ['MIT'] };

describe('required', () => {
  it.each([
    ['app/vendor/composer/installed.json', true, false],
    ['vendor/composer/installed.json', true, false],
    ['srv/www/lib/composer/installed.json', true, false], // custom vendor-dir
    ['app/vendor/composer/installed.php', false, false],
    ['app/vendor/composer/installed.json.bak', false, false],
    ['app/vendor/mycomposer/installed.json', false, false],
    ['composer.lock', false, true],
    ['app/composer.lock', false, true],
    ['app/composer.json', false, false],
    ['app/my-composer.lock', false, false],
  ])('%s → installed %s, lock %s', (path, wantInstalled, wantLock) => {
    expect([
      composerInstalledAnalyzer.required(path, INFO),
      composerLockAnalyzer.required(path, INFO),
    ]).toEqual([wantInstalled, wantLock]);
  });
});

describe('composerInstalledAnalyzer.analyze', () => {
  it('reads a Composer 1 array (own fixture): string and array licenses, entries without a version reported', async () => {
    const rel = 'composer1/vendor/composer/installed.json';
    expect(
      await composerInstalledAnalyzer.analyze(inputFromBuffer(rel, readFileSync(join(TESTDATA, rel)))),
    ).toEqual({
      packages: [
        installed('symfony/polyfill-mbstring', 'v1.26.0', MIT),
        installed('phpseclib/phpseclib', '3.0.14', MIT),
        installed('php-http/discovery', '1.14.3'),
        installed('drupal/core', '9.4.5', { licenses: ['GPL-2.0-or-later'] }),
        installed('example/dual', 'dev-main', { licenses: ['LGPL-2.1-only', 'GPL-3.0-or-later'] }),
      ],
      unknowns: [
        {
          path: rel,
          source: 'lang/composer-installed',
          message: 'installed.json: 1 entry without a name and version skipped',
        },
      ],
    });
  });

  it.each([
    ['{"packages": 1}', 'installed.json: neither a package array (Composer 1) nor {"packages": [...]}'],
    ['"text"', 'installed.json: neither a package array (Composer 1) nor {"packages": [...]}'],
  ])('turns %s into an unknown', async (text, message) => {
    expect(
      await composerInstalledAnalyzer.analyze(
        inputFromBuffer('vendor/composer/installed.json', Buffer.from(text)),
      ),
    ).toEqual({
      unknowns: [{ path: 'vendor/composer/installed.json', source: 'lang/composer-installed', message }],
    });
  });

  it('reports invalid JSON as an unknown', async () => {
    const result = await composerInstalledAnalyzer.analyze(
      inputFromBuffer('vendor/composer/installed.json', Buffer.from('{')),
    );
    expect(result).toEqual({
      unknowns: [
        {
          path: 'vendor/composer/installed.json',
          source: 'lang/composer-installed',
          // the rest of the message is V8's JSON.parse error text
          message: expect.stringMatching(/^installed\.json: invalid JSON: /),
        },
      ],
    });
  });
});

describe.skipIf(!hasRealdata)('composerInstalledAnalyzer.analyze (realdata)', () => {
  it('pkgdb/php/syft-installed-composer1.json (bare array)', async () => {
    const buf = readFileSync(realdata('pkgdb/php/syft-installed-composer1.json'));
    expect(
      await composerInstalledAnalyzer.analyze(inputFromBuffer('vendor/composer/installed.json', buf)),
    ).toEqual({
      packages: [installed('asm89/stack-cors', '1.3.0', MIT), installed('behat/mink', 'v1.8.1', MIT)],
    });
  });

  it('pkgdb/php/syft-installed-composer2.json (dev-package-names: ["behat/mink"])', async () => {
    const buf = readFileSync(realdata('pkgdb/php/syft-installed-composer2.json'));
    expect(
      await composerInstalledAnalyzer.analyze(inputFromBuffer('vendor/composer/installed.json', buf)),
    ).toEqual({
      packages: [
        installed('asm89/stack-cors', '1.3.0', MIT),
        installed('behat/mink', 'v1.8.1', { ...MIT, dev: true }),
      ],
    });
  });
});

describe('composerLockAnalyzer.analyze', () => {
  it('reads packages and packages-dev (own fixture)', async () => {
    const buf = readFileSync(join(TESTDATA, 'project/composer.lock'));
    expect(await composerLockAnalyzer.analyze(inputFromBuffer('project/composer.lock', buf))).toEqual({
      packages: [
        locked('laravel/framework', 'v9.19.0', MIT),
        locked('example/forked-lib', 'dev-main', { licenses: ['BSD-3-Clause'] }),
        locked('phpunit/phpunit', '9.5.21', { licenses: ['BSD-3-Clause'], dev: true }),
      ],
    });
  });

  it('turns a JSON file without package arrays into an unknown', async () => {
    expect(
      await composerLockAnalyzer.analyze(inputFromBuffer('composer.lock', Buffer.from('{"name": "a/b"}'))),
    ).toEqual({
      unknowns: [
        {
          path: 'composer.lock',
          source: 'lang/composer-lock',
          message: 'composer.lock: no "packages" or "packages-dev" array',
        },
      ],
    });
  });
});

describe.skipIf(!hasRealdata)('composerLockAnalyzer.analyze (realdata)', () => {
  it('pkgdb/php/syft-composer.lock', async () => {
    const buf = readFileSync(realdata('pkgdb/php/syft-composer.lock'));
    expect(await composerLockAnalyzer.analyze(inputFromBuffer('composer.lock', buf))).toEqual({
      packages: [
        locked('adoy/fastcgi-client', '1.0.2', MIT),
        locked('alcaeus/mongo-php-adapter', '1.1.11', MIT),
        locked('behat/gherkin', 'v4.6.2', { ...MIT, dev: true }),
        locked('codeception/codeception', '4.1.6', { ...MIT, dev: true }),
      ],
    });
  });

  it('pkgdb/php/osvscanner-composer.lock', async () => {
    const buf = readFileSync(realdata('pkgdb/php/osvscanner-composer.lock'));
    expect(await composerLockAnalyzer.analyze(inputFromBuffer('composer.lock', buf))).toEqual({
      packages: [locked('league/flysystem', '1.0.8', MIT)],
    });
  });
});

describe('fuzz', () => {
  const seedsOf = (own: string[], real: string[]) => [
    ...own.map((rel) => readFileSync(join(TESTDATA, rel))),
    ...(hasRealdata ? real.map((rel) => readFileSync(realdata(rel))) : []),
  ];

  it.each([
    [
      'composerInstalledAnalyzer',
      composerInstalledAnalyzer,
      seedsOf(
        ['composer1/vendor/composer/installed.json'],
        ['pkgdb/php/syft-installed-composer1.json', 'pkgdb/php/syft-installed-composer2.json'],
      ),
    ],
    [
      'composerLockAnalyzer',
      composerLockAnalyzer,
      seedsOf(
        ['project/composer.lock'],
        ['pkgdb/php/syft-composer.lock', 'pkgdb/php/osvscanner-composer.lock'],
      ),
    ],
  ])('%s never rejects on mutated inputs (10,000 inputs)', async (_name, analyzer, seeds) => {
    const failures = await fuzz(seeds, 10_000, async (buf) => {
      const result = await analyzer.analyze(inputFromBuffer('vendor/composer/installed.json', buf));
      for (const p of result.packages ?? []) {
        if (typeof p.name !== 'string' || typeof p.version !== 'string' || !p.name || !p.version) {
          throw new Error(`bad package ${JSON.stringify(p)}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });
});
