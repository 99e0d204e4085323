/**
 * Go module vectors: versions from the realdata go.mod / go.sum / vendor/modules.txt files and Go
 * advisories plus pseudo-version, +incompatible and pre-release variants, pairs ordered by
 * golang.org/x/mod/semver.Compare. The oracle is built once in a temporary module from the copy of
 * x/mod/semver vendored in the Go toolchain's own source (no download). Run:
 *   node test/generators/generate-go-versions.mjs [path/to/x/mod/semver]
 */
import process from 'node:process';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grab, pickPairs, realdataFiles, uniq, writeVectors } from './lib.mjs';

const GOROOT = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
const SEMVER_DIR = process.argv[2] ?? join(GOROOT, 'src/cmd/vendor/golang.org/x/mod/semver');
if (!existsSync(join(SEMVER_DIR, 'semver.go'))) throw new Error(`x/mod/semver not found at ${SEMVER_DIR}`);

const MAIN = `package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"oracle/semver"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 1 {
			fmt.Fprintln(w, semver.IsValid(f[0]))
		} else {
			fmt.Fprintln(w, semver.Compare(f[0], f[1]))
		}
	}
}
`;

function withOracle(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-gosemver-'));
  try {
    mkdirSync(join(dir, 'semver'));
    copyFileSync(join(SEMVER_DIR, 'semver.go'), join(dir, 'semver/semver.go'));
    writeFileSync(join(dir, 'go.mod'), 'module oracle\n\ngo 1.19\n');
    writeFileSync(join(dir, 'main.go'), MAIN);
    execFileSync('go', ['build', '-o', join(dir, 'oracle'), '.'], {
      cwd: dir,
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
    return fn((lines) =>
      execFileSync(join(dir, 'oracle'), { input: `${lines.join('\n')}\n`, encoding: 'utf8' })
        .trim()
        .split('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const texts = [...realdataFiles('pkgdb/go'), ...realdataFiles('feeds/osv')].map(([, t]) => t);
const candidates = uniq([
  ...grab(texts, /\s(v[0-9][^\s/"]*)/g),
  ...grab(texts, /"(?:introduced|fixed|last_affected)": *"([0-9][^"]*)"/g).map((v) =>
    v === '0' ? 'v0.0.0' : `v${v}`,
  ),
]);
const variants = candidates.flatMap((v, i) => {
  if (i % 2 !== 0 || v.includes('-') || v.includes('+')) return [];
  const [maj, min, pat] = v.slice(1).split('.');
  const next = `v${maj}.${min}.${Number(pat) + 1}`;
  return [
    `${next}-0.20240101120000-abcdef012345`,
    `${v}-rc.1`,
    `${v}+incompatible`,
    `v${maj}.${min}`,
    `${v}-pre.0.20230101000000-0123456789ab`,
  ];
});
withOracle((ask) => {
  const all = uniq([...candidates, ...variants]);
  const ok = ask(all);
  const versions = all.filter((_, i) => ok[i] === 'true');
  const pairs = pickPairs(versions, 450);
  const answers = ask(pairs.map(([a, b]) => `${a} ${b}`)).map(Number);
  const goVersion = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  writeVectors(
    'go',
    [
      `Oracle: golang.org/x/mod/semver.Compare, as vendored in ${goVersion}.`,
      `Versions: ${versions.length} distinct, from realdata pkgdb/go and feeds/osv (Go advisories, "v" added),`,
      'plus pseudo-version, +incompatible, -rc.1 and short-form variants.',
    ],
    pairs.map(([a, b], i) => [a, b, answers[i]]),
  );
});
