/**
 * rpm header tags → a Vigil Package plus the files it owns.
 *
 * Tag numbers: https://rpm-software-management.github.io/rpm/manual/tags.html (rpmtag.h).
 *
 * Version notation: `[epoch:]version-release`, with the epoch printed only when it is > 0.
 * rpm's own comparison (rpmvercmp / rpmdsCompare) treats a missing epoch as 0, so `0:1.2-3` and
 * `1.2-3` are the same version; trivy prints them the same way (FormatVersion omits epoch 0),
 * and `rpm -q` prints no epoch for them. Dropping `0:` keeps one spelling per version for the
 * report and the cache. The epoch the header actually carries (including an explicit 0) is kept
 * in `metadata.epoch`, so nothing is lost.
 */
import type { Package } from '../../../model/package.js';
import { RPM_TYPE, RpmHeaderError, type RpmHeader } from './header.js';

/** The rpm tags this analyzer reads (rpmtag.h). */
export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  MODULARITYLABEL: 5096,
} as const;

/** What one header yields. */
export interface RpmPackageInfo {
  package: Package;
  /** image-relative paths (no leading slash) of the files and directories the package owns. */
  files: string[];
  /** non-fatal problems with this header (e.g. a broken file list). */
  problems: string[];
}

function str(h: RpmHeader, tag: number): string | undefined {
  const v = h.get(tag);
  if (v?.type !== RPM_TYPE.STRING && v?.type !== RPM_TYPE.I18NSTRING && v?.type !== RPM_TYPE.STRING_ARRAY) {
    return undefined;
  }
  const s = typeof v.value === 'string' ? v.value : v.value[0];
  // rpm fills absent optional strings with "(none)" in some versions
  return s === undefined || s === '' || s === '(none)' ? undefined : s;
}

function strs(h: RpmHeader, tag: number): string[] | undefined {
  const v = h.get(tag);
  return v?.type === RPM_TYPE.STRING_ARRAY ? v.value : undefined;
}

function ints(h: RpmHeader, tag: number): number[] | undefined {
  const v = h.get(tag);
  return v?.type === RPM_TYPE.INT32 || v?.type === RPM_TYPE.INT16 || v?.type === RPM_TYPE.INT8
    ? v.value
    : undefined;
}

/**
 * Splits a source rpm file name (`openssl-3.0.7-16.el9.src.rpm`) into name and version-release.
 * Returns undefined when the name does not have the `name-version-release.(no)src.rpm` shape.
 */
export function parseSourceRpm(file: string): { name: string; version: string; release: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(file);
  if (!m) return undefined;
  return { name: m[1]!, version: m[2]!, release: m[3]! };
}

/**
 * Builds the Package for one decoded header.
 *
 * @returns undefined for `gpg-pubkey` pseudo packages (imported signing keys: their "version"
 *   is a key id, not a software version).
 * @throws RpmHeaderError when NAME, VERSION or RELEASE is missing (the header is not a package).
 */
export function headerToPackage(h: RpmHeader, foundBy: string): RpmPackageInfo | undefined {
  const name = str(h, TAG.NAME);
  const version = str(h, TAG.VERSION);
  const release = str(h, TAG.RELEASE);
  if (!name || !version || !release) {
    throw new RpmHeaderError(`header lacks ${!name ? 'NAME' : !version ? 'VERSION' : 'RELEASE'}`);
  }
  if (name === 'gpg-pubkey') return undefined;

  const epoch = ints(h, TAG.EPOCH)?.[0];
  const epochPrefix = epoch !== undefined && epoch > 0 ? `${epoch}:` : '';
  const pkg: Package = { name, version: `${epochPrefix}${version}-${release}`, ecosystem: 'rpm', foundBy };

  const arch = str(h, TAG.ARCH);
  if (arch) pkg.arch = arch;
  const sourceRpm = str(h, TAG.SOURCERPM);
  const src = sourceRpm ? parseSourceRpm(sourceRpm) : undefined;
  if (src) {
    // a source rpm file name carries no epoch; the binary's epoch applies to it (as trivy does)
    pkg.srcName = src.name;
    pkg.srcVersion = `${epochPrefix}${src.version}-${src.release}`;
  }
  const license = str(h, TAG.LICENSE);
  if (license) pkg.licenses = [license];

  const metadata: NonNullable<Package['metadata']> = {};
  const vendor = str(h, TAG.VENDOR);
  if (vendor) metadata.vendor = vendor;
  const modularityLabel = str(h, TAG.MODULARITYLABEL);
  if (modularityLabel) metadata.modularityLabel = modularityLabel;
  if (epoch !== undefined) metadata.epoch = epoch;
  if (Object.keys(metadata).length > 0) pkg.metadata = metadata;

  const problems: string[] = [];
  const files = fileList(h, problems);
  return { package: pkg, files, problems };
}

/** BASENAMES[i] is in directory DIRNAMES[DIRINDEXES[i]]; pre-4.0 packages list OLDFILENAMES. */
function fileList(h: RpmHeader, problems: string[]): string[] {
  const basenames = strs(h, TAG.BASENAMES);
  const out: string[] = [];
  if (basenames) {
    const dirnames = strs(h, TAG.DIRNAMES) ?? [];
    const dirindexes = ints(h, TAG.DIRINDEXES) ?? [];
    let bad = 0;
    for (let i = 0; i < basenames.length; i++) {
      const dir = dirnames[dirindexes[i] ?? -1];
      if (dir === undefined) {
        bad++;
        continue;
      }
      push(out, dir + basenames[i]!);
    }
    if (bad > 0) problems.push(`${bad} of ${basenames.length} file entries have no valid directory index`);
    return out;
  }
  for (const file of strs(h, TAG.OLDFILENAMES) ?? []) push(out, file);
  return out;
}

/** Adds `path` without its leading slashes; the root directory itself ("/") is not a file. */
function push(out: string[], path: string): void {
  let i = 0;
  while (path.charCodeAt(i) === 0x2f) i++;
  if (i < path.length) out.push(path.slice(i));
}
