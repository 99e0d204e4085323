import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { inputFromBuffer } from '../../types.js';
import { rubyGemspecAnalyzer } from './index.js';
import { parseGemspec } from './parse-gemspec.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const analyze = (rel: string) =>
  rubyGemspecAnalyzer.analyze(inputFromBuffer(rel, readFileSync(join(TESTDATA, rel))));

describe('rubyGemspecAnalyzer.required', () => {
  it.each([
    ['usr/local/bundle/specifications/rake-13.0.6.gemspec', true],
    ['usr/lib/ruby/gems/3.1.0/specifications/nokogiri-1.13.6-x86_64-linux.gemspec', true],
    ['usr/lib/ruby/gems/3.1.0/specifications/default/bigdecimal-3.1.1.gemspec', true],
    ['var/lib/gems/3.0.0/specifications/json-2.6.1.gemspec', true],
    ['specifications/x-1.gemspec', true],
    ['app/vendor/bundle/ruby/3.2.0/specifications/rack-3.0.0.gemspec', true],
    // a gem's own source tree, not an installed specification
    ['usr/local/bundle/gems/rake-13.0.6/rake.gemspec', false],
    ['usr/local/bundle/bundler/gems/devise-0123/devise.gemspec', false],
    ['usr/local/bundle/specifications/rake-13.0.6.gemspec.bak', false],
    ['usr/local/bundle/specifications/other/rake-13.0.6.gemspec', false],
    ['usr/local/bundle/myspecifications/rake-13.0.6.gemspec', false],
    ['Gemfile.lock', false],
  ])('%s → %s', (path, want) => {
    expect(rubyGemspecAnalyzer.required(path, { size: 1, mode: 0o644 })).toBe(want);
  });
});

describe('rubyGemspecAnalyzer.analyze', () => {
  const gem = (name: string, version: string, extra: object = {}) => ({
    name,
    version,
    ecosystem: 'gem',
    foundBy: 'lang/gemspec',
    ...extra,
  });

  it.each([
    // RubyGems 3 to_ruby output of a native platform gem
    [
      'usr/local/bundle/specifications/nokogiri-1.13.6-x86_64-linux.gemspec',
      gem('nokogiri', '1.13.6', { licenses: ['MIT'], metadata: { platform: 'x86_64-linux' } }),
    ],
    // default gem, two licenses
    [
      'usr/lib/ruby/gems/3.1.0/specifications/default/bigdecimal-3.1.1.gemspec',
      gem('bigdecimal', '3.1.1', { licenses: ['Ruby', 'bsd-2-clause'] }),
    ],
    // s.version = JSON::VERSION: the version comes from the `# stub: json 2.6.1 ruby lib` line
    [
      'usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec',
      gem('json', '2.6.1', { licenses: ['Ruby'] }),
    ],
    // RubyGems 1.3 style: %q{} strings, no license
    ['var/lib/gems/1.8/specifications/rake-0.8.7.gemspec', gem('rake', '0.8.7')],
    // spec. receiver, Gem::Version.new, multi-line licenses, `other.version` and a string decoy ignored
    [
      'opt/app/vendor/bundle/ruby/3.2.0/specifications/vigil-fixture-2.0.1.gemspec',
      gem('vigil-fixture', '2.0.1', { licenses: ['Apache-2.0', 'MIT'] }),
    ],
  ])('%s', async (rel, want) => {
    expect(await analyze(rel)).toEqual({ packages: [want] });
  });

  it('turns a gemspec without a literal name into an unknown', async () => {
    expect(await analyze('broken/specifications/broken-1.0.gemspec')).toEqual({
      unknowns: [
        {
          path: 'broken/specifications/broken-1.0.gemspec',
          source: 'lang/gemspec',
          message: 'gemspec: no literal gem name (s.name) found',
        },
      ],
    });
  });
});

describe('parseGemspec', () => {
  it.each([
    ['s.name = "a"\ns.version = "1.0.0.rc1"', { name: 'a', version: '1.0.0.rc1', licenses: [] }],
    // CRLF, single quotes with escapes, later license= replaces licenses=
    [
      "Gem::Specification.new do |g|\r\n  g.name = 'crlf'.freeze\r\n  g.version = '2.0'\r\n  g.licenses = ['MIT']\r\n  g.license = 'Don\\'t-Care'\r\nend\r\n",
      { name: 'crlf', version: '2.0', licenses: ["Don't-Care"] },
    ],
    // %w[] licenses; `s.platform = "ruby"` is the default platform
    [
      's.name = "w"\ns.version = "3"\ns.platform = "ruby"\ns.licenses = %w[MIT Ruby]',
      { name: 'w', version: '3', licenses: ['MIT', 'Ruby'] },
    ],
    // only the block variable counts once there is one
    [
      'Gem::Specification.new do |s|\n  x.name = "no"\n  s.name = "yes"\n  s.version = "1"\nend',
      { name: 'yes', version: '1', licenses: [] },
    ],
    // a version with interpolation is not a literal; the stub line is used
    [
      '# stub: interp 4.5.6 ruby lib\ns.name = "interp"\ns.version = "#{MAJOR}.0"',
      { name: 'interp', version: '4.5.6', licenses: [] },
    ],
    // \u escapes in double-quoted strings
    [
      's.name = "u"\ns.version = "1"\ns.licenses = ["\\u0041pache-2.0"]',
      { name: 'u', version: '1', licenses: ['Apache-2.0'] },
    ],
  ])('%j', (text, want) => {
    expect(parseGemspec(text)).toEqual(want);
  });

  it('rejects a name that is not a gem name (no stub line to fall back on)', () => {
    expect(() => parseGemspec('s.name = "caf\\u00e9"\ns.version = "1"')).toThrow(
      'gemspec: no literal gem name',
    );
  });

  it('rejects a version that is not a Gem::Version', () => {
    expect(() => parseGemspec('s.name = "v"\ns.version = "one"')).toThrow(
      'gemspec of v: no literal gem version',
    );
  });
});

describe('rubyGemspecAnalyzer fuzz', () => {
  it('never rejects on mutated gemspecs (10,000 inputs)', async () => {
    const seeds = [
      'usr/local/bundle/specifications/nokogiri-1.13.6-x86_64-linux.gemspec',
      'usr/lib/ruby/gems/3.1.0/specifications/default/bigdecimal-3.1.1.gemspec',
      'var/lib/gems/1.8/specifications/rake-0.8.7.gemspec',
      'opt/app/vendor/bundle/ruby/3.2.0/specifications/vigil-fixture-2.0.1.gemspec',
    ].map((rel) => readFileSync(join(TESTDATA, rel)));
    const failures = await fuzz(seeds, 10_000, async (buf) => {
      const result = await rubyGemspecAnalyzer.analyze(inputFromBuffer('specifications/x.gemspec', buf));
      for (const p of result.packages ?? []) {
        if (!p.name || !p.version) throw new Error(`empty name or version: ${JSON.stringify(p)}`);
      }
    });
    expect(failures).toEqual([]);
  });
});
