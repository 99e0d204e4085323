/**
 * A real Debian bookworm root filesystem as a plain tar, built once with `debootstrap` and cached,
 * for end-to-end tests and the benchmarks (bench/run.mjs) that need a genuine dpkg database,
 * `/etc/os-release` symlink chain and Python packages installed by Debian.
 *
 * ```ts
 * import { debianRootfs } from '../../test/harness/debian.js';
 * const tar = await debianRootfs();   // e.g. /var/cache/vigil-test/debian-bookworm-minbase-3f2a….tar
 * ```
 *
 * What the tarball holds (debootstrap 1.0.128, `--variant=minbase`, bookworm, amd64 on amd64 hosts):
 * - the minbase set (dpkg, apt, bash, coreutils, libc6 …) plus `DEFAULT_PACKAGES` and their
 *   dependencies, 124 packages in all (python3.11; PyYAML, attrs, packaging, chardet and
 *   charset_normalizer ship `*.dist-info`, requests, six, urllib3, idna and certifi ship
 *   `*.egg-info`, under /usr/lib/python3/dist-packages);
 * - entries named `bin`, `etc/…` (no `./` prefix, as in `docker save` layers), numeric owners
 *   (`--numeric-owner`), sorted by name; `/dev` kept as an empty directory (no device nodes), and
 *   the apt cache of downloaded `.deb` files emptied. About 230 MB, ~9,700 entries.
 *
 * Cost: one debootstrap from the mirror configured in /etc/apt/sources.list* takes 1–3 minutes
 * on the 2-core machine (measured 2 min 40 s, and 61 s on a second build; docs/performance.md);
 * later calls return the cached path at once. Parallel callers (vitest forks) serialise on a
 * `flock` lock file, so the rootfs is built only once (checked: two concurrent calls on an empty
 * cache ran one debootstrap); the tar is written to a temp name and renamed, so a half-written
 * file is never seen.
 *
 * Needs root (debootstrap mounts /proc and creates device nodes) and the `debootstrap`, `flock`
 * and GNU `tar` commands. Throws with the build log tail when debootstrap fails.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Python packages added to minbase: a mix of `*.dist-info` and `*.egg-info` installs (checked with `dpkg -c`). */
export const DEFAULT_PACKAGES: readonly string[] = [
  'python3-requests',
  'python3-yaml',
  'python3-six',
  'python3-attr',
  'python3-packaging',
];

export interface DebianRootfsOptions {
  /** Debian suite, default `bookworm`. */
  suite?: string;
  /** Extra packages for `--include` (default DEFAULT_PACKAGES). */
  include?: readonly string[];
  /** Cache directory; default `$VIGIL_TEST_CACHE`, else `/var/cache/vigil-test`. */
  cacheDir?: string;
  /** Mirror URL; default the first `deb.debian.org`-style URI in /etc/apt/sources.list*, else deb.debian.org. */
  mirror?: string;
}

/** The default cache directory: `$VIGIL_TEST_CACHE` or `/var/cache/vigil-test`. */
export function testCacheDir(): string {
  return process.env['VIGIL_TEST_CACHE'] || '/var/cache/vigil-test';
}

/**
 * The Debian archive URI configured for apt (deb822 `.sources` files or one-line `sources.list`),
 * skipping security and updates suites; `http://deb.debian.org/debian` when none is found.
 */
export function aptMirror(): string {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir))
    for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(dir, f));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // deb822: "URIs: http://…/debian" in a stanza whose Suites are not -security
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? '';
      if (uri && !/security/.test(uri) && !/-security/.test(suites) && /^Types:.*\bdeb\b/m.test(stanza))
        return uri;
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && !/security/.test(m[1]!) && !/-security/.test(m[2]!)) return m[1]!;
    }
  }
  return 'http://deb.debian.org/debian';
}

// Runs in `sh` under `flock -x LOCK`: $1 out tar, $2 work dir, $3 suite, $4 mirror, $5 include list, $6 log.
const BUILD_SCRIPT = `
set -eu
out="$1"; work="$2"; suite="$3"; mirror="$4"; include="$5"; log="$6"
[ -s "$out" ] && exit 0
rm -rf "$work"; mkdir -p "$work"
if ! debootstrap --variant=minbase --include="$include" "$suite" "$work/root" "$mirror" >"$log" 2>&1; then
  tail -n 30 "$log" >&2; exit 1
fi
rm -rf "$work/root/dev"/* "$work/root/var/cache/apt/archives"/*.deb "$work/root/debootstrap"
cd "$work/root"
tar --numeric-owner --sort=name -cf "$out.tmp" -- $(ls -A)
mv "$out.tmp" "$out"
cd /; rm -rf "$work"
`;

function sh(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('flock', args, { maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`debian rootfs build failed: ${error.message}\n${stderr}`));
      else resolve();
    });
  });
}

/**
 * Returns the path of the cached rootfs tarball for `options`, building it first when absent
 * (see the module comment for content and cost). The file name carries a hash of suite, package
 * list and mirror, so changing any of them builds a new tarball beside the old one.
 */
export async function debianRootfs(options: DebianRootfsOptions = {}): Promise<string> {
  const suite = options.suite ?? 'bookworm';
  const include = [...(options.include ?? DEFAULT_PACKAGES)].sort();
  const mirror = options.mirror ?? aptMirror();
  const cacheDir = options.cacheDir ?? testCacheDir();
  const key = createHash('sha256')
    .update(JSON.stringify([suite, include, mirror, 'minbase', 1]))
    .digest('hex')
    .slice(0, 12);
  const out = join(cacheDir, `debian-${suite}-minbase-${key}.tar`);
  if (existsSync(out)) return out;
  if (process.getuid?.() !== 0) throw new Error('debianRootfs: debootstrap needs root');
  await mkdir(cacheDir, { recursive: true });
  const work = join(cacheDir, `build-${key}`);
  await sh([
    '-x',
    `${out}.lock`,
    'sh',
    '-c',
    BUILD_SCRIPT,
    'build',
    out,
    work,
    suite,
    mirror,
    include.join(','),
    `${out}.log`,
  ]);
  return out;
}
