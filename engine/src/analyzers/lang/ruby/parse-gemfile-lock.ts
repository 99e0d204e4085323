/**
 * Reads Bundler's lock file (`Gemfile.lock`, or `gems.locked`).
 *
 * Format (Bundler's `Bundler::LockfileParser`, https://bundler.io/man/gemfile.5.html and
 * https://github.com/rubygems/rubygems/blob/master/bundler/lib/bundler/lockfile_parser.rb):
 * sections start at column 0 (`GEM`, `GIT`, `PATH`, `PLUGIN SOURCE`, `PLATFORMS`,
 * `DEPENDENCIES`, `CHECKSUMS`, `RUBY VERSION`, `BUNDLED WITH`). Source sections hold
 * `  remote:` / `  revision:` options and a `  specs:` list in which a locked gem is a line
 * indented by exactly four spaces, `    name (version[-platform])`; its own dependencies
 * follow at six spaces. Bundler splits the version from the platform at the first `-`
 * (`nokogiri (1.13.6-x86_64-linux)` is nokogiri 1.13.6 for x86_64-linux), and so do we.
 *
 * Only the source sections (GEM, GIT, PATH, PLUGIN SOURCE) yield gems; four-space lines in any
 * other section are ignored. Gems locked for several platforms appear once.
 */

/** One locked gem. */
export interface LockedGem {
  name: string;
  version: string;
}

/** Result of parsing: the gems, plus human-readable problems about lines that were skipped. */
export interface GemfileLockResult {
  gems: LockedGem[];
  problems: string[];
}

const SOURCE_SECTIONS = new Set(['GEM', 'GIT', 'PATH', 'PLUGIN SOURCE']);
/** Bundler's NAME_VERSION at four spaces: `name (version[-platform])`. */
const SPEC_LINE = /^ {4}(?! )(\S+) \(([^-)\s]+)(?:-([^)]*))?\)$/;

/** Parses Gemfile.lock text. Never throws; a gem line it cannot read becomes a problem. */
export function parseGemfileLock(text: string): GemfileLockResult {
  const gems: LockedGem[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  let section = '';
  let badLines = 0;
  let firstBad = '';

  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > 0 && line[0] !== ' ') {
      section = line.trim();
      continue;
    }
    if (!SOURCE_SECTIONS.has(section) || !/^ {4}(?! )/.test(line)) continue;
    const m = SPEC_LINE.exec(line);
    if (!m) {
      badLines++;
      firstBad ||= line.trim().slice(0, 120);
      continue;
    }
    const key = `${m[1]}\0${m[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    gems.push({ name: m[1]!, version: m[2]! });
  }
  if (badLines > 0) {
    problems.push(
      `Gemfile.lock: ${badLines} spec line(s) without "name (version)" skipped, first: "${firstBad}"`,
    );
  }
  return { gems, problems };
}
