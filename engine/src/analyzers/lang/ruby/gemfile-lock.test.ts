import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer } from '../../types.js';
import { rubyLockAnalyzer } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const declared = (pairs: [string, string][]) =>
  pairs.map(([name, version]) => ({
    name,
    version,
    ecosystem: 'gem',
    foundBy: 'lang/gemfile-lock',
    declared: true,
  }));

describe('rubyLockAnalyzer.required', () => {
  it.each([
    ['Gemfile.lock', true],
    ['app/Gemfile.lock', true],
    ['srv/app/gems.locked', true],
    ['app/Gemfile', false],
    ['app/gemfile.lock', false],
    ['app/Gemfile.lock.orig', false],
    ['app/NotGemfile.lock', false],
  ])('%s → %s', (path, want) => {
    expect(rubyLockAnalyzer.required(path, { size: 1, mode: 0o644 })).toBe(want);
  });
});

describe('rubyLockAnalyzer.analyze (own fixture)', () => {
  it('reads PATH, GIT, GEM and PLUGIN SOURCE specs, drops platform suffixes, ignores other sections', async () => {
    const buf = readFileSync(join(TESTDATA, 'project/Gemfile.lock'));
    expect(await rubyLockAnalyzer.analyze(inputFromBuffer('project/Gemfile.lock', buf))).toEqual({
      packages: declared([
        ['vigil-app', '0.3.0'], // PATH remote: .
        ['devise', '4.9.0.beta'], // GIT
        ['bcrypt', '3.1.18'],
        ['mini_portile2', '2.8.0'],
        ['nokogiri', '1.13.6'], // three platform variants, one package
        ['racc', '1.6.0'],
        ['rack', '3.0.0'],
        ['sorbet-static', '0.5.10000'], // 0.5.10000-universal-darwin-21
        ['bundler-plugin', '1.0.0'], // PLUGIN SOURCE
      ]),
    });
  });

  it('accepts CRLF line ends and reports unreadable spec lines', async () => {
    const text =
      'GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    rack (2.2.3)\r\n    broken\r\n    (1.0)\r\n';
    expect(await rubyLockAnalyzer.analyze(inputFromBuffer('Gemfile.lock', Buffer.from(text)))).toEqual({
      packages: declared([['rack', '2.2.3']]),
      unknowns: [
        {
          path: 'Gemfile.lock',
          source: 'lang/gemfile-lock',
          message: 'Gemfile.lock: 2 spec line(s) without "name (version)" skipped, first: "broken"',
        },
      ],
    });
  });

  it('returns no packages for an empty file', async () => {
    expect(await rubyLockAnalyzer.analyze(inputFromBuffer('Gemfile.lock', Buffer.alloc(0)))).toEqual({
      packages: [],
    });
  });
});

describe.skipIf(!hasRealdata)('rubyLockAnalyzer.analyze (realdata)', () => {
  it('pkgdb/ruby/trivy-Gemfile.lock', async () => {
    const buf = readFileSync(realdata('pkgdb/ruby/trivy-Gemfile.lock'));
    expect(await rubyLockAnalyzer.analyze(inputFromBuffer('Gemfile.lock', buf))).toEqual({
      packages: declared([
        ['coderay', '1.1.2'],
        ['concurrent-ruby', '1.1.5'],
        ['dotenv', '2.7.2'],
        ['faker', '1.9.3'],
        ['i18n', '1.6.0'],
        ['method_source', '0.9.2'],
        ['pry', '0.12.2'],
      ]),
    });
  });

  it('pkgdb/ruby/syft-Gemfile.lock (BAD-SECTION entries are not gems)', async () => {
    const buf = readFileSync(realdata('pkgdb/ruby/syft-Gemfile.lock'));
    expect(await rubyLockAnalyzer.analyze(inputFromBuffer('Gemfile.lock', buf))).toEqual({
      packages: declared([
        ['google-cloud-errors', '1.3.0'], // PATH remote: ../google-cloud-errors
        ['turbolinks', '3.0.0'], // GIT
        ['actionmailer', '4.1.1'],
        ['actionpack', '4.1.1'],
        ['actionview', '4.1.1'],
        ['activemodel', '4.1.1'],
        ['activerecord', '4.1.1'],
        ['activesupport', '4.1.1'],
        ['arel', '5.0.1.20140414130214'],
        ['bootstrap-sass', '3.1.1.1'],
        ['builder', '3.2.2'],
        ['coffee-rails', '4.0.1'],
        ['coffee-script', '2.2.0'],
        ['coffee-script-source', '1.7.0'],
        ['erubis', '2.7.0'],
        ['execjs', '2.0.2'],
        ['hike', '1.2.3'],
        ['i18n', '0.6.9'],
        ['jbuilder', '2.0.7'],
        ['jquery-rails', '3.1.0'],
        ['json', '1.8.1'],
        ['kgio', '2.9.2'],
        ['libv8', '3.16.14.3'],
        ['mail', '2.5.4'],
        ['mime-types', '1.25.1'],
        ['minitest', '5.3.4'],
        ['multi_json', '1.10.1'],
        ['mysql2', '0.3.16'],
        ['polyglot', '0.3.4'],
        ['rack', '1.5.2'],
        ['rack-test', '0.6.2'],
        ['rails', '4.1.1'],
        ['railties', '4.1.1'],
        ['raindrops', '0.13.0'],
        ['rake', '10.3.2'],
        ['rdoc', '4.1.1'],
        ['ref', '1.0.5'],
        ['sass', '3.2.19'],
        ['sass-rails', '4.0.3'],
        ['sdoc', '0.4.0'],
        ['spring', '1.1.3'],
        ['sprockets', '2.11.0'],
        ['sprockets-rails', '2.1.3'],
        ['sqlite3', '1.3.9'],
        ['therubyracer', '0.12.1'],
        ['thor', '0.19.1'],
        ['thread_safe', '0.3.3'],
        ['tilt', '1.4.1'],
        ['treetop', '1.4.15'],
        ['tzinfo', '1.2.0'],
        ['uglifier', '2.5.0'],
        ['unicorn', '4.8.3'],
      ]),
    });
  });
});

describe('rubyLockAnalyzer fuzz', () => {
  it('never rejects on mutated lock files (10,000 inputs)', async () => {
    const seeds = [readFileSync(join(TESTDATA, 'project/Gemfile.lock'))];
    if (hasRealdata) {
      seeds.push(
        readFileSync(realdata('pkgdb/ruby/syft-Gemfile.lock')),
        readFileSync(realdata('pkgdb/ruby/trivy-Gemfile.lock')),
      );
    }
    const failures = await fuzz(seeds, 10_000, async (buf) => {
      const result = await rubyLockAnalyzer.analyze(inputFromBuffer('Gemfile.lock', buf));
      for (const p of result.packages ?? []) {
        if (!p.name || !p.version || /\s/.test(p.name + p.version))
          throw new Error(`bad package ${JSON.stringify(p)}`);
      }
    });
    expect(failures).toEqual([]);
  });
});
