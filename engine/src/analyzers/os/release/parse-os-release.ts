/**
 * Pure parsers for the shell-style `KEY=value` release files: os-release and lsb-release.
 *
 * os-release format: https://www.freedesktop.org/software/systemd/man/latest/os-release.html
 * (one assignment per line, values optionally in double or single quotes, `\` escapes `$ " \ ``
 * inside double quotes, `#` comment lines, no variable expansion).
 * lsb-release: https://refspecs.linuxfoundation.org/LSB_5.0.0/LSB-Core-generic/LSB-Core-generic/lsbrelease.html
 * (DISTRIB_ID, DISTRIB_RELEASE, DISTRIB_CODENAME, DISTRIB_DESCRIPTION in the same syntax).
 */
import type { OsRelease } from '../../../model/os.js';
import { CODENAME_FAMILIES, normaliseFamily } from './family.js';

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** Unquotes one shell-style value: `"a \" b"`, `'x'`, `plain`, and concatenations of those. */
function unquote(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') {
      i++;
      while (i < raw.length && raw[i] !== '"') {
        if (raw[i] === '\\' && i + 1 < raw.length && '$"\\`'.includes(raw[i + 1]!)) i++;
        out += raw[i];
        i++;
      }
      i++; // closing quote (an unclosed quote runs to the end of the line)
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      out += end < 0 ? raw.slice(i + 1) : raw.slice(i + 1, end);
      i = end < 0 ? raw.length : end + 1;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else if (c === ' ' || c === '\t') {
      break; // an unquoted blank ends the value, as in the shell (`ID=x # note`)
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Reads `KEY=value` lines into a map (later assignments win, as when the file is sourced).
 * Comment, blank and malformed lines are ignored; CRLF and a UTF-8 BOM are tolerated. Never throws.
 */
export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n|\r/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = ASSIGNMENT.exec(trimmed);
    if (m) out.set(m[1]!, unquote(m[2]!));
  }
  return out;
}

/** Copies the defined, non-empty optional fields onto `os`. */
function withOptional(os: OsRelease, extra: Partial<Record<keyof OsRelease, unknown>>): OsRelease {
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    (os as unknown as Record<string, unknown>)[k] = v;
  }
  return os;
}

/**
 * Release codename from the human VERSION field, for families whose trackers use codenames:
 * Debian `8 (jessie)`, `Debian GNU/Linux 11 (bullseye)`; Ubuntu `16.04.7 LTS (Xenial Xerus)`,
 * `14.04.6 LTS, Trusty Tahr`.
 */
function codenameFromVersion(family: string, version: string | undefined): string | undefined {
  if (!version || !CODENAME_FAMILIES.has(family)) return undefined;
  const m = /\(([A-Za-z]+)[^)]*\)\s*$/.exec(version) ?? /,\s*([A-Za-z]+)\s+[A-Za-z]+\s*$/.exec(version);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** The result of parsing one release file: an OS, or why there is none. */
export type ReleaseParse = { os: OsRelease } | { problem: string };

/**
 * Builds an OsRelease from an os-release file. `family` is the normalised ID, `version` the
 * VERSION_ID ('' when absent, e.g. Debian sid and rolling distributions), `codename`
 * VERSION_CODENAME (or UBUNTU_CODENAME, or for Debian/Ubuntu the codename in VERSION).
 * Google distroless images (PRETTY_NAME "Distroless") are flagged `distroless: true`.
 * A file without ID yields a problem rather than guessing the spec's `linux` default.
 */
export function parseOsRelease(text: string, source: string): ReleaseParse {
  const kv = parseKeyValues(text);
  const family = normaliseFamily(kv.get('ID') ?? '');
  if (family === '') return { problem: 'os-release has no ID' };
  const prettyName = kv.get('PRETTY_NAME');
  const codename =
    kv.get('VERSION_CODENAME') || kv.get('UBUNTU_CODENAME') || codenameFromVersion(family, kv.get('VERSION'));
  const os = withOptional(
    { family, version: kv.get('VERSION_ID') ?? '' },
    {
      name: kv.get('NAME'),
      prettyName,
      codename,
      idLike: (kv.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean),
      distroless: prettyName !== undefined && /^distroless\b/i.test(prettyName.trim()) ? true : undefined,
      source,
    },
  );
  return { os };
}

/** Builds an OsRelease from /etc/lsb-release (DISTRIB_ID required). */
export function parseLsbRelease(text: string, source: string): ReleaseParse {
  const kv = parseKeyValues(text);
  const family = normaliseFamily(kv.get('DISTRIB_ID') ?? '');
  if (family === '') return { problem: 'lsb-release has no DISTRIB_ID' };
  const os = withOptional(
    { family, version: kv.get('DISTRIB_RELEASE') ?? '' },
    {
      prettyName: kv.get('DISTRIB_DESCRIPTION'),
      codename: kv.get('DISTRIB_CODENAME')?.toLowerCase(),
      source,
    },
  );
  return { os };
}
