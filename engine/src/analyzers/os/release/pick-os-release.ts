/**
 * Chooses one OS release when an image holds several release files (os-release, alpine-release,
 * debian_version, redhat-release...). Pure: works on the `source` paths the release analyzer set.
 */
import type { OsRelease } from '../../../model/os.js';

/**
 * Preference order of the file kinds for the base identity. os-release is the standard and wins
 * (systemd: /etc/os-release over /usr/lib/os-release); then the distribution-specific files, the
 * most specific first (a Rocky image also has redhat-release and system-release); debian_version
 * last because Ubuntu ships one too (`bookworm/sid`).
 */
const RANK: readonly string[] = [
  'etc/os-release',
  'usr/lib/os-release',
  '', // a candidate without a recognised source (built by hand, another analyzer)
  'etc/alpine-release',
  'etc/rocky-release',
  'etc/almalinux-release',
  'etc/oracle-release',
  'etc/centos-release',
  'etc/fedora-release',
  'etc/redhat-release',
  'etc/system-release',
  'etc/SuSE-release',
  'etc/lsb-release',
  'etc/debian_version',
];

function rank(os: OsRelease): number {
  const i = RANK.indexOf(os.source ?? '');
  return i < 0 ? RANK.indexOf('') : i;
}

/** `fine` says the same release as `coarse`, more precisely: `3.10.4` refines `3.10`, `12.5` refines `12`. */
function refines(fine: string, coarse: string): boolean {
  return coarse === '' || fine === coarse || fine.startsWith(coarse + '.');
}

/**
 * The file that can give a finer version of the same release for a family: alpine-release for
 * Alpine (os-release may carry only major.minor), debian_version for Debian when it is a numeric
 * point release (`12.5`, never `bookworm/sid`). Red Hat family and Ubuntu keep the os-release
 * version: their trackers key on it.
 */
function refinedVersion(base: OsRelease, all: readonly OsRelease[]): OsRelease | undefined {
  const find = (source: string, ok: (v: string) => boolean) =>
    all.find(
      (c) =>
        c.source === source && c.family === base.family && ok(c.version) && refines(c.version, base.version),
    );
  if (base.family === 'alpine') return find('etc/alpine-release', (v) => /^\d+\.\d+/.test(v));
  if (base.family === 'debian') return find('etc/debian_version', (v) => /^\d+(\.\d+)*$/.test(v));
  return undefined;
}

/**
 * Picks the best OS release among the candidates of one image (each as the release analyzer
 * returned it, `source` = the file). Takes the highest-ranked file as the identity (os-release
 * first), then refines its version from alpine-release / numeric debian_version when they agree
 * with it (the result's `source` is then the file that gave the version), and fills a missing
 * codename from another file of the same family. Returns undefined for no candidates. Never throws.
 */
export function pickOsRelease(candidates: readonly OsRelease[]): OsRelease | undefined {
  const usable = candidates.filter((c) => c.family !== '');
  if (usable.length === 0) return undefined;
  const sorted = [...usable].sort((a, b) => rank(a) - rank(b));
  const base = sorted[0]!;
  const out: OsRelease = { ...base };
  const finer = refinedVersion(base, sorted);
  if (finer && finer.version !== base.version) {
    out.version = finer.version;
    if (finer.source !== undefined) out.source = finer.source;
  }
  if (out.codename === undefined) {
    const named = sorted.find((c) => c.family === base.family && c.codename);
    if (named?.codename) out.codename = named.codename;
  }
  return out;
}
