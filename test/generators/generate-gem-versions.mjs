/**
 * RubyGems vectors: versions from the realdata Gemfile.lock files and advisories plus release
 * histories of well-known gems and pre-release variants, random pairs ordered by Ruby's
 * Gem::Version (the system ruby), one ruby process for all pairs. Run:
 *   node test/generators/generate-gem-versions.mjs
 */
import { execFileSync } from 'node:child_process';
import { grab, pickPairs, realdataFiles, uniq, writeVectors } from './lib.mjs';

const texts = [...realdataFiles('pkgdb/ruby'), ...realdataFiles('feeds/ghsa')].map(([, t]) => t);
// release histories as rubygems.org lists them (rails, nokogiri, rack, bundler, puma)
const HISTORIES = [
  '4.2.11.3 5.0.0.beta1 5.0.0.rc1 5.0.0 5.0.7.2 5.2.0.rc2 5.2.4.3 5.2.8.1 6.0.0.beta3 6.0.0.rc2 6.0.3.7 6.1.0.rc1 6.1.4.1 6.1.7.6 7.0.0.alpha2 7.0.0.rc3 7.0.4.3 7.0.8.1 7.1.0.beta1 7.1.3.2 7.2.0',
  '1.10.10 1.11.0.rc4 1.11.7 1.12.5 1.13.0.rc1 1.13.10 1.14.3 1.15.0 1.15.6 1.16.0.rc1 1.16.5',
  '1.6.13 2.0.0.alpha 2.0.0.beta1 2.0.9.4 2.1.4.4 2.2.0 2.2.6.4 2.2.8.1 3.0.0.beta1 3.0.9.1',
  '1.17.3 2.0.0.pre.1 2.0.0.pre.3 2.1.4 2.3.26 2.4.22 2.5.0.dev 2.5.10',
  '4.3.12 5.0.0.beta1 5.6.7 6.0.0 6.4.2 6.4.3',
];
const candidates = uniq([
  ...grab(texts, /^ {4}\S+ \(([0-9][^)]*)\)/gm),
  ...grab(texts, /"(?:introduced|fixed|last_affected)": *"([0-9][^"]*)"/g),
  ...HISTORIES.flatMap((h) => h.split(' ')),
]).filter((v) => /^[0-9][0-9A-Za-z.-]*$/.test(v));
const SUFFIXES = ['.pre', '.rc1', '.beta.2', '-alpha', '.0', '.a', '.1', 'b'];
const variants = candidates.flatMap((v, i) => (i % 2 === 0 ? [v + SUFFIXES[i % SUFFIXES.length]] : []));

const script = `
require "json"
req = JSON.parse($stdin.read)
out = if req["op"] == "valid"
  req["versions"].map { |v| Gem::Version.correct?(v) ? true : false }
else
  req["pairs"].map { |a, b| Gem::Version.new(a) <=> Gem::Version.new(b) }
end
print JSON.generate(out)
`;
const ruby = (req) =>
  JSON.parse(execFileSync('ruby', ['-e', script], { input: JSON.stringify(req), encoding: 'utf8' }));

const all = uniq([...candidates, ...variants]);
const ok = ruby({ op: 'valid', versions: all });
const versions = all.filter((_, i) => ok[i]);
const pairs = pickPairs(versions, 450);
const answers = ruby({ op: 'compare', pairs });
const rubyVersion = execFileSync('ruby', ['-e', 'print RUBY_VERSION, " / RubyGems ", Gem::VERSION'], {
  encoding: 'utf8',
});
writeVectors(
  'gem',
  [
    `Oracle: Gem::Version#<=> (ruby ${rubyVersion}).`,
    `Versions: ${versions.length} distinct, from realdata pkgdb/ruby Gemfile.lock files and feeds/ghsa, release`,
    'histories of rails, nokogiri, rack, bundler and puma, plus pre-release variants.',
  ],
  pairs.map(([a, b], i) => [a, b, answers[i]]),
);
