/**
 * Pure parser for the Alpine (and Wolfi/Chainguard) installed-package database,
 * /lib/apk/db/installed. Format: https://wiki.alpinelinux.org/wiki/Apk_spec ("Installed
 * Database V2"): one `X:value` line per field, packages separated by a blank line. Fields used
 * here: `P` name, `V` version, `A` arch, `L` license (one expression, e.g. `MIT AND BSD-2-Clause`
 * or the older space-separated `MIT BSD GPL2+`), `o` origin (the source package), `F` a directory
 * (relative to /) and `R` a file in the last `F` directory (in / before any `F`).
 */
import { posix } from 'node:path';
import type { Package } from '../../../model/package.js';
import type { Unknown } from '../../../model/unknown.js';

export interface ApkDbResult {
  packages: Package[];
  /** image-relative paths of the files (R: lines) of the packages read, without duplicates. */
  ownedFiles: string[];
  unknowns: Unknown[];
}

interface Stanza {
  line: number;
  fields: Map<string, string>;
  files: string[];
}

/** Names, versions and arches never contain blanks or control characters. */
const TOKEN = /^[^\s\p{Cc}]+$/u;

/** `dir` + `file` as an image-relative path; undefined when it would leave the root or is empty. */
function joinPath(dir: string, file: string): string | undefined {
  if (file === '' || (dir + file).includes('\0')) return undefined;
  const rel = posix.normalize(`${dir}/${file}`.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../') || rel === '.' || rel === '') return undefined;
  return rel;
}

/** Splits the db into stanzas; `badPaths` collects R: lines that give no path inside the image (empty, NUL, above the root). */
function splitStanzas(text: string, badPaths: string[]): Stanza[] {
  const out: Stanza[] = [];
  let cur: Stanza | undefined;
  let dir = '';
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      cur = undefined;
      continue;
    }
    if (!cur) {
      cur = { line: i + 1, fields: new Map(), files: [] };
      dir = '';
      out.push(cur);
    }
    if (line.length < 2 || line[1] !== ':') continue; // not an apk field line
    const key = line[0]!;
    const value = line.slice(2);
    if (key === 'F') dir = value;
    else if (key === 'R') {
      const p = joinPath(dir, value);
      if (p !== undefined) cur.files.push(p);
      else badPaths.push(`${dir}/${value}`);
    } else if (!cur.fields.has(key)) cur.fields.set(key, value.trim());
  }
  return out;
}

/**
 * Reads the packages of an installed db. Each stanza with a valid `P` and `V` becomes one `apk`
 * package: `name`, `version`, `arch`, `licenses` ([L] when present), `srcName` = origin (the
 * name itself when there is no `o:`) and `srcVersion` = V (apk origins are built at the package's
 * version). A stanza without a valid P or V becomes an unknown on `path` and its files are not
 * counted as owned; R: paths that are empty or would leave the image root are dropped and counted into one
 * unknown; the rest goes on. Never throws.
 */
export function parseApkInstalledDb(text: string, path: string, foundBy: string): ApkDbResult {
  const packages: Package[] = [];
  const owned = new Set<string>();
  const unknowns: Unknown[] = [];
  const badPaths: string[] = [];
  for (const { line, fields, files } of splitStanzas(text, badPaths)) {
    const name = fields.get('P') ?? '';
    const version = fields.get('V') ?? '';
    const where = name ? `package "${name.slice(0, 80)}" (line ${line})` : `stanza at line ${line}`;
    if (!TOKEN.test(name)) {
      unknowns.push({ path, message: `${where}: ${name ? 'invalid' : 'no'} P: (name)` });
      continue;
    }
    if (!TOKEN.test(version)) {
      unknowns.push({ path, message: `${where}: ${version ? 'invalid' : 'no'} V: (version)` });
      continue;
    }
    const origin = fields.get('o');
    const pkg: Package = {
      name,
      version,
      ecosystem: 'apk',
      srcName: origin && TOKEN.test(origin) ? origin : name,
      srcVersion: version,
      foundBy,
    };
    const arch = fields.get('A');
    if (arch && TOKEN.test(arch)) pkg.arch = arch;
    const license = fields.get('L');
    if (license) pkg.licenses = [license];
    packages.push(pkg);
    for (const f of files) owned.add(f);
  }
  if (badPaths.length > 0) {
    const first = badPaths[0]!.slice(0, 80);
    unknowns.push({ path, message: `${badPaths.length} unusable R: path(s) ignored, first: "${first}"` });
  }
  return { packages, ownedFiles: [...owned], unknowns };
}
