/**
 * Pure parser for the dpkg status database (/var/lib/dpkg/status) and the per-package files of
 * distroless images (/var/lib/dpkg/status.d/<name>).
 * Format: dpkg-query(1) and deb-control(5); the `Status:` field is `<want> <flag> <status>` as in
 * dpkg(1) "PACKAGE STATES"; `Source:` is `name` or `name (version)` (deb-src-control(5), Debian
 * policy 5.6.1).
 */
import type { Package } from '../../../model/package.js';
import type { Unknown } from '../../../model/unknown.js';
import { parseControl } from './parse-control.js';

/**
 * dpkg package states (third word of `Status:`) in which the package's files are on disk:
 * `installed`, the two trigger states (configured, only waiting for triggers: dpkg counts them
 * as installed for dependencies) and the two unconfigured states `unpacked` and
 * `half-configured` (files unpacked, postinst not or not successfully run: the code is there
 * to be exploited). Not reported: `not-installed`, `config-files` (only conffiles remain) and
 * `half-installed` (an install or removal broke off; the file set is unknown).
 * The first word (selection: install, hold, deinstall, purge) is what the admin *wants*, not
 * what is there, so `deinstall ok installed` is still installed.
 */
export const DPKG_PRESENT_STATES: ReadonlySet<string> = new Set([
  'installed',
  'triggers-awaited',
  'triggers-pending',
  'half-configured',
  'unpacked',
  // dpkg < 1.13 name of half-configured (dpkg still reads it)
  'post-inst-failed',
]);

// `removal-failed` is the dpkg < 1.13 name of half-installed
const KNOWN_STATES = new Set([
  ...DPKG_PRESENT_STATES,
  'not-installed',
  'config-files',
  'half-installed',
  'removal-failed',
]);

/** `glibc`, `glibc (2.36-9)`. */
const SOURCE = /^([^\s()]+)(?:\s*\(\s*([^\s()]+)\s*\))?$/;

/** Package names and versions never contain blanks or control characters. */
const TOKEN = /^[^\s\p{Cc}]+$/u;

export interface DpkgStatusResult {
  packages: Package[];
  unknowns: Unknown[];
}

/**
 * Reads the installed packages of a status file. Each paragraph becomes one `deb` package
 * (`name`, full `version` with epoch, `arch`, `srcName`/`srcVersion` from `Source:`, or the
 * binary's own name and version when there is none) when its state is one of
 * DPKG_PRESENT_STATES. A paragraph without `Status:` counts as installed: distroless status.d
 * files carry none. A present paragraph without a valid Package or Version, or with an unreadable
 * Status, becomes an unknown on `path` and the rest goes on. Never throws.
 */
export function parseDpkgStatus(text: string, path: string, foundBy: string): DpkgStatusResult {
  const packages: Package[] = [];
  const unknowns: Unknown[] = [];
  const problem = (message: string) => unknowns.push({ path, message });
  for (const { fields, line } of parseControl(text)) {
    const name = fields.get('package') ?? '';
    const where = name ? `package "${name.slice(0, 80)}" (line ${line})` : `paragraph at line ${line}`;
    const status = fields.get('status');
    if (status !== undefined) {
      const state = status.split(/\s+/);
      if (state.length !== 3 || !KNOWN_STATES.has(state[2]!)) {
        problem(`${where}: unreadable Status "${status.slice(0, 80)}"`);
        continue;
      }
      if (!DPKG_PRESENT_STATES.has(state[2]!)) continue;
    }
    if (!TOKEN.test(name)) {
      problem(`${where}: ${name ? 'invalid' : 'no'} Package`);
      continue;
    }
    const version = fields.get('version') ?? '';
    if (!TOKEN.test(version)) {
      problem(`${where}: ${version ? 'invalid' : 'no'} Version`);
      continue;
    }
    const pkg: Package = { name, version, ecosystem: 'deb', srcName: name, srcVersion: version, foundBy };
    const source = SOURCE.exec(fields.get('source') ?? '');
    if (source) {
      pkg.srcName = source[1]!;
      if (source[2]) pkg.srcVersion = source[2];
    }
    const arch = fields.get('architecture');
    if (arch && TOKEN.test(arch)) pkg.arch = arch;
    packages.push(pkg);
  }
  return { packages, unknowns };
}
