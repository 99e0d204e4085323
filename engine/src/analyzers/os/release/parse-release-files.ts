/**
 * Pure parsers for the one-line distribution release files that predate (or refine) os-release:
 * /etc/alpine-release (`3.10.4`), /etc/debian_version (`12.5`, `bookworm/sid`), the Red Hat
 * family's /etc/*-release (`CentOS Linux release 7.6.1810 (Core)`, see redhat-release(5) and
 * https://access.redhat.com/articles/3078) and /etc/SuSE-release (`SUSE Linux Enterprise Server 11
 * (x86_64)` + `VERSION = 11` + `PATCHLEVEL = 4`).
 */
import type { OsRelease } from '../../../model/os.js';
import type { ReleaseParse } from './parse-os-release.js';

function firstLine(text: string): string {
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n|\r/)) {
    const t = line.trim();
    if (t !== '') return t;
  }
  return '';
}

/** A version-like token: digits, letters and `. _ + ~ -` (no blanks, no control characters). */
const VERSION_TOKEN = /^[0-9A-Za-z][0-9A-Za-z._+~-]*$/;

/** /etc/alpine-release: one line, the full release (`3.18.1`, `3.19_alpha20230901`). */
export function parseAlpineRelease(text: string, source: string): ReleaseParse {
  const version = firstLine(text);
  if (!VERSION_TOKEN.test(version))
    return { problem: `alpine-release: unexpected content "${version.slice(0, 40)}"` };
  return { os: { family: 'alpine', version, source } };
}

/**
 * /etc/debian_version: a point release (`9.8`, `12.5`) on stable Debian, or `<codename>/sid` on
 * testing/unstable and on Ubuntu. The raw text is kept as `version`; `<codename>/sid` also sets
 * `codename`. pickOsRelease uses only numeric values to refine an os-release version.
 */
export function parseDebianVersion(text: string, source: string): ReleaseParse {
  const version = firstLine(text);
  if (!/^[0-9A-Za-z][0-9A-Za-z._+~/-]*$/.test(version)) {
    return { problem: `debian_version: unexpected content "${version.slice(0, 40)}"` };
  }
  const os: OsRelease = { family: 'debian', version, source };
  const sid = /^([a-z]+)\/sid$/.exec(version);
  if (sid) os.codename = sid[1]!;
  return { os };
}

/** Product-name prefixes of the Red Hat family release line → family. First match wins. */
const RH_PRODUCTS: readonly (readonly [RegExp, string])[] = [
  [/^red hat enterprise linux\b/i, 'rhel'],
  [/^red hat linux\b/i, 'rhel'],
  [/^centos\b/i, 'centos'],
  [/^rocky linux\b/i, 'rocky'],
  [/^almalinux\b/i, 'almalinux'],
  [/^(oracle linux|enterprise linux)\b/i, 'ol'],
  [/^fedora\b/i, 'fedora'],
  [/^amazon linux\b/i, 'amzn'],
  [/^(cbl-mariner|common base linux mariner)\b/i, 'mariner'],
  [/^(microsoft )?azure linux\b/i, 'azurelinux'],
];

const RH_LINE = /^(.*?)\s+release\s+([0-9][0-9A-Za-z._+~-]*)(?:\s*\(([^)]*)\))?/i;

/**
 * /etc/redhat-release, centos-release, rocky-release, almalinux-release, oracle-release,
 * fedora-release, system-release: `<Product> release <version> [(<codename>)]`. The product name
 * decides the family; a product Vigil does not know is a problem, not a guess.
 */
export function parseRedHatRelease(text: string, source: string): ReleaseParse {
  const line = firstLine(text);
  const m = RH_LINE.exec(line);
  if (!m) return { problem: `release file: no "<name> release <version>" line` };
  const product = m[1]!.trim();
  const family = RH_PRODUCTS.find(([re]) => re.test(product))?.[1];
  if (!family) return { problem: `release file: unrecognised distribution "${product.slice(0, 60)}"` };
  const os: OsRelease = { family, version: m[2]!, name: product, prettyName: line, source };
  const codename = m[3]?.trim();
  if (codename) os.codename = codename;
  return { os };
}

/**
 * /etc/SuSE-release (SLES ≤ 12, openSUSE ≤ 42): product line, then `VERSION = 11` and
 * `PATCHLEVEL = 4`. The version is written as os-release does it (`11.4`; `15` for patch level 0).
 */
export function parseSuseRelease(text: string, source: string): ReleaseParse {
  const line = firstLine(text);
  const fields = new Map<string, string>();
  for (const l of text.split(/\r?\n|\r/)) {
    const m = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(l);
    if (m) fields.set(m[1]!, m[2]!);
  }
  let family: string | undefined;
  if (/^suse linux enterprise server\b/i.test(line)) family = 'sles';
  else if (/^suse linux enterprise desktop\b/i.test(line)) family = 'sled';
  else if (/^opensuse\b/i.test(line)) family = 'opensuse-leap';
  if (!family) return { problem: `SuSE-release: unrecognised distribution "${line.slice(0, 60)}"` };
  const major = fields.get('VERSION') ?? '';
  if (!VERSION_TOKEN.test(major)) return { problem: 'SuSE-release: no VERSION' };
  const patch = fields.get('PATCHLEVEL');
  const version = patch && patch !== '0' && /^\d+$/.test(patch) ? `${major}.${patch}` : major;
  const name = line.replace(/\s*\([^)]*\)\s*$/, '');
  const os: OsRelease = { family, version, name, prettyName: line, source };
  const codename = fields.get('CODENAME');
  if (codename) os.codename = codename;
  return { os };
}
