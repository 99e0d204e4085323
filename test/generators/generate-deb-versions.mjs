/**
 * Debian vectors: versions from the realdata dpkg status files and Debian/Ubuntu tracker feeds,
 * random pairs ordered by `dpkg --compare-versions` (the native oracle). Run:
 *   node test/generators/generate-deb-versions.mjs
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { grab, pickPairs, realdataFiles, uniq, writeVectors } from './lib.mjs';

const texts = [
  ...realdataFiles('pkgdb/dpkg'),
  ...realdataFiles('feeds/debian'),
  ...realdataFiles('feeds/ubuntu'),
].map(([, t]) => t);
const candidates = uniq([
  ...grab(texts, /^(?:Version|Source-Version): *(\S+)/gm),
  ...grab(texts, /^Source: \S+ \(([^)]+)\)/gm),
  ...grab(texts, /"(?:fixed_version|version|fixed|introduced)": *"([0-9][^"]*)"/g),
]);

/** dpkg accepts it without a warning (warnings are errors in the deb scheme). */
function clean(v) {
  const r = spawnSync('dpkg', ['--compare-versions', v, 'eq', v], { encoding: 'utf8' });
  return r.status === 0 && r.stderr === '';
}
// near neighbours of real versions, where the ordering rules matter: pre-releases (~), stable
// updates (+debNuM), binNMUs (+bN), epochs
const variants = candidates.flatMap((v, i) =>
  i % 2 === 0 ? [`${v}~rc1`, `${v}+deb12u1`, `${v}+b1`, v.includes(':') ? v : `1:${v}`] : [],
);
const versions = uniq([...candidates, ...variants]).filter(clean);

function dpkgCompare(a, b) {
  const ok = (op) => spawnSync('dpkg', ['--compare-versions', a, op, b]).status === 0;
  return ok('lt') ? -1 : ok('eq') ? 0 : 1;
}

const pairs = pickPairs(versions, 450);
const dpkg = execFileSync('dpkg', ['--version'], { encoding: 'utf8' }).split('\n')[0];
writeVectors(
  'deb',
  [
    `Oracle: dpkg --compare-versions (${dpkg}).`,
    `Versions: ${versions.length} distinct, from realdata pkgdb/dpkg status files and feeds/debian, feeds/ubuntu, plus ~rc1 / +deb12u1 / +b1 / 1: variants of every other one.`,
  ],
  pairs.map(([a, b]) => [a, b, dpkgCompare(a, b)]),
);
