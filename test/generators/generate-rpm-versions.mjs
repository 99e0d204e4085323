/**
 * RPM vectors: EVRs from the realdata rpm databases (read with `rpm -qa --dbpath`) and the Red
 * Hat / Amazon / OSV feeds, random pairs ordered by rpm's own `rpm.vercmp` (rpm's embedded lua,
 * the native oracle), all in one `rpm --eval`. Run:
 *   node test/generators/generate-rpm-versions.mjs
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REALDATA, grab, pickPairs, realdataFiles, uniq, writeVectors } from './lib.mjs';

function fromRpmDb(file, name) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rpmdb-'));
  try {
    copyFileSync(join(REALDATA, file), join(dir, name));
    const out = execFileSync('rpm', ['-qa', '--dbpath', dir, '--qf', '%{EPOCH}:%{VERSION}-%{RELEASE}\\n'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n').map((l) => l.replace(/^\(none\):/, ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const feedTexts = [
  ...realdataFiles('feeds/redhat'),
  ...realdataFiles('feeds/amazon'),
  ...realdataFiles('feeds/osv'),
].map(([, t]) => t);
const candidates = uniq([
  ...fromRpmDb('pkgdb/rpm/gorpmdb-cbl-mariner-2.0-rpmdb.sqlite', 'rpmdb.sqlite'),
  ...grab(feedTexts, /"((?:\d+:)?\d[\w.+~^]*-\d[\w.+~^]*\.(?:el\d+|amzn\d*|fc\d+|cm\d|module)[\w.+~^]*)"/g),
]).filter((v) => /^[\w.:+~^-]+$/.test(v));
const variants = candidates.flatMap((v, i) => {
  if (i % 2 !== 0) return [];
  const dash = v.lastIndexOf('-');
  const ver = dash > 0 ? v.slice(0, dash) : v;
  const rel = dash > 0 ? v.slice(dash) : '';
  return [`${ver}~rc1${rel}`, `${ver}^git20240101${rel}`, v.includes(':') ? v : `1:${v}`, ver];
});
const versions = uniq([...candidates, ...variants]);

const pairs = pickPairs(versions, 450);
const lua = `%{lua:${pairs.map(([a, b]) => `print(rpm.vercmp("${a}", "${b}") .. ";")`).join(' ')}}`;
const answers = execFileSync('rpm', ['--eval', lua], { encoding: 'utf8' })
  .split(';')
  .map((s) => s.trim())
  .filter(Boolean)
  .map(Number);
if (answers.length !== pairs.length) throw new Error(`rpm answered ${answers.length} of ${pairs.length}`);
const rpmVersion = execFileSync('rpm', ['--version'], { encoding: 'utf8' }).trim();
writeVectors(
  'rpm',
  [
    `Oracle: rpm.vercmp in rpm's embedded lua (${rpmVersion}), which parses epoch:version-release.`,
    `Versions: ${versions.length} distinct, from realdata pkgdb/rpm (CBL-Mariner sqlite rpmdb) and feeds/redhat,`,
    'feeds/amazon, feeds/osv, plus ~rc1 / ^git / 1: / release-less variants of every other one.',
  ],
  pairs.map(([a, b], i) => [a, b, Math.sign(answers[i])]),
);
