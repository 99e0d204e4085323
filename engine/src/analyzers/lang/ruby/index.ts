/**
 * Ruby gems. `lang/gemspec` reads what is installed: the specifications RubyGems writes for
 * every installed gem (`<gem dir>/specifications/*.gemspec`, default gems in
 * `specifications/default/`), wherever the gem dir is (`usr/local/bundle`,
 * `usr/lib/ruby/gems/3.1.0`, `var/lib/gems/3.0.0`, `vendor/bundle/ruby/3.2.0`, …).
 * `lang/gemfile-lock` reads what a project declares in Bundler's lock file.
 */
import { throwIfAborted } from '../../../errors.js';
import type { Package } from '../../../model/package.js';
import type { Unknown } from '../../../model/unknown.js';
import { defineAnalyzer, type AnalysisResult, type FileInfo } from '../../types.js';
import { parseGemfileLock } from './parse-gemfile-lock.js';
import { parseGemspec } from './parse-gemspec.js';
import { decodeText } from '../text.js';

const GEMSPEC_NAME = 'lang/gemspec';
const LOCK_NAME = 'lang/gemfile-lock';

/** `…/specifications/<file>.gemspec` or `…/specifications/default/<file>.gemspec`. */
const GEMSPEC_PATH = /(?:^|\/)specifications\/(?:default\/)?[^/]+\.gemspec$/;
const LOCK_FILES = new Set(['Gemfile.lock', 'gems.locked']);

/**
 * Installed gems, one per `specifications/*.gemspec`. Packages: ecosystem `gem`, the spec's
 * name and version, licenses when declared, `metadata.platform` for native platform gems.
 * A gemspec without a literal name or version becomes an unknown.
 */
export const rubyGemspecAnalyzer = defineAnalyzer({
  name: GEMSPEC_NAME,
  version: 1,
  tags: ['lang', 'installed'],
  required: (path: string, _info: FileInfo): boolean => GEMSPEC_PATH.test(path),
  async analyze(input): Promise<AnalysisResult> {
    throwIfAborted(input.signal);
    try {
      const spec = parseGemspec(decodeText(await input.content.read()));
      const pkg: Package = {
        name: spec.name,
        version: spec.version,
        ecosystem: 'gem',
        foundBy: GEMSPEC_NAME,
      };
      if (spec.licenses.length > 0) pkg.licenses = spec.licenses;
      if (spec.platform) pkg.metadata = { platform: spec.platform };
      return { packages: [pkg] };
    } catch (error) {
      return { unknowns: [unknown(input.path, GEMSPEC_NAME, error)] };
    }
  },
});

/**
 * Gems locked in `Gemfile.lock` / `gems.locked` (GEM, GIT, PATH and PLUGIN SOURCE specs).
 * Packages: ecosystem `gem`, `declared: true`, the version without its platform suffix.
 * Unreadable spec lines are summarised in one unknown; the other gems are still returned.
 */
export const rubyLockAnalyzer = defineAnalyzer({
  name: LOCK_NAME,
  version: 1,
  tags: ['lang', 'declared'],
  required: (path: string, _info: FileInfo): boolean => LOCK_FILES.has(basename(path)),
  async analyze(input): Promise<AnalysisResult> {
    throwIfAborted(input.signal);
    try {
      const { gems, problems } = parseGemfileLock(decodeText(await input.content.read()));
      const result: AnalysisResult = {
        packages: gems.map((g) => ({ ...g, ecosystem: 'gem', foundBy: LOCK_NAME, declared: true })),
      };
      if (problems.length > 0) {
        result.unknowns = problems.map((message) => ({ path: input.path, message, source: LOCK_NAME }));
      }
      return result;
    } catch (error) {
      return { unknowns: [unknown(input.path, LOCK_NAME, error)] };
    }
  },
});

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function unknown(path: string, source: string, error: unknown): Unknown {
  return { path, source, message: error instanceof Error ? error.message : String(error) };
}
