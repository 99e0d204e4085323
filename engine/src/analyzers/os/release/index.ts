/**
 * OS release detection (trivy `analyzer/os/*`, syft `linux.IdentifyRelease`): every release file
 * the image holds yields one OsRelease with `source` = its path; the core collects them and
 * chooses with `pickOsRelease` (os-release first, refined by alpine-release / debian_version).
 */
import { defineAnalyzer, type AnalysisResult, type AnalyzerInput } from '../../types.js';
import { parseLsbRelease, parseOsRelease, type ReleaseParse } from './parse-os-release.js';
import {
  parseAlpineRelease,
  parseDebianVersion,
  parseRedHatRelease,
  parseSuseRelease,
} from './parse-release-files.js';

export { pickOsRelease } from './pick-os-release.js';
export { normaliseFamily } from './family.js';

/** Release files are a few hundred bytes; anything larger is not one. */
const MAX_RELEASE_FILE = 64 * 1024;

type Parser = (text: string, source: string) => ReleaseParse;

/** Image-relative path → parser. */
const PARSERS: ReadonlyMap<string, Parser> = new Map<string, Parser>([
  ['etc/os-release', parseOsRelease],
  ['usr/lib/os-release', parseOsRelease],
  ['etc/alpine-release', parseAlpineRelease],
  ['etc/debian_version', parseDebianVersion],
  ['etc/redhat-release', parseRedHatRelease],
  ['etc/centos-release', parseRedHatRelease],
  ['etc/rocky-release', parseRedHatRelease],
  ['etc/almalinux-release', parseRedHatRelease],
  ['etc/oracle-release', parseRedHatRelease],
  ['etc/fedora-release', parseRedHatRelease],
  ['etc/system-release', parseRedHatRelease],
  ['etc/lsb-release', parseLsbRelease],
  ['etc/SuSE-release', parseSuseRelease],
]);

/**
 * `release/os`: reads the release files listed in `staticPaths`. Result: `os` (family normalised
 * to the trackers' names, `source` = the path), or one unknown when the file is empty, too large
 * or not recognised. Never throws on content.
 */
export const osReleaseAnalyzer = defineAnalyzer({
  name: 'release/os',
  version: 1,
  tags: ['release'],
  staticPaths: [...PARSERS.keys()],
  required(path: string): boolean {
    return PARSERS.has(path);
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    const parse = PARSERS.get(input.path);
    if (!parse) return {};
    if (input.size > MAX_RELEASE_FILE) {
      return { unknowns: [{ path: input.path, message: `release file too large (${input.size} bytes)` }] };
    }
    const text = (await input.content.read()).toString('utf8');
    if (text.includes('\0')) return { unknowns: [{ path: input.path, message: 'release file is binary' }] };
    const parsed = parse(text, input.path);
    if ('problem' in parsed) return { unknowns: [{ path: input.path, message: parsed.problem }] };
    return { os: parsed.os };
  },
});
