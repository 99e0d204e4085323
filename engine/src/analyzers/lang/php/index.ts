/**
 * PHP Composer packages. `lang/composer-installed` reads what `composer install` put in a
 * vendor dir (`<vendor-dir>/composer/installed.json`, Composer 1 and 2);
 * `lang/composer-lock` reads what a project declares in `composer.lock`.
 */
import { throwIfAborted } from '../../../errors.js';
import type { Unknown } from '../../../model/unknown.js';
import { defineAnalyzer, type AnalysisResult, type AnalyzerInput, type FileInfo } from '../../types.js';
import { parseComposerInstalled, parseComposerLock, type ComposerResult } from './parse-composer.js';
import { decodeText } from '../text.js';

const INSTALLED_NAME = 'lang/composer-installed';
const LOCK_NAME = 'lang/composer-lock';

/** The vendor dir is configurable (`config.vendor-dir`), its `composer/installed.json` is not. */
const INSTALLED_PATH = /(?:^|\/)composer\/installed\.json$/;

/**
 * Installed Composer packages from `…/composer/installed.json`. Packages: ecosystem `composer`,
 * name `vendor/name`, version as written, licenses; `dev: true` for Composer 2's
 * `dev-package-names`. A file that is not an installed.json becomes an unknown.
 */
export const composerInstalledAnalyzer = defineAnalyzer({
  name: INSTALLED_NAME,
  version: 1,
  tags: ['lang', 'installed'],
  required: (path: string, _info: FileInfo): boolean => INSTALLED_PATH.test(path),
  analyze: (input) => run(input, INSTALLED_NAME, parseComposerInstalled, false),
});

/**
 * Packages locked in `composer.lock`. Packages: ecosystem `composer`, `declared: true`,
 * `dev: true` for `packages-dev`. A file that is not a lock file becomes an unknown.
 */
export const composerLockAnalyzer = defineAnalyzer({
  name: LOCK_NAME,
  version: 1,
  tags: ['lang', 'declared'],
  required: (path: string, _info: FileInfo): boolean =>
    path === 'composer.lock' || path.endsWith('/composer.lock'),
  analyze: (input) => run(input, LOCK_NAME, parseComposerLock, true),
});

async function run(
  input: AnalyzerInput,
  name: string,
  parse: (text: string) => ComposerResult,
  declared: boolean,
): Promise<AnalysisResult> {
  throwIfAborted(input.signal);
  try {
    const { packages, problems } = parse(decodeText(await input.content.read()));
    const result: AnalysisResult = {
      packages: packages.map((p) => ({
        ...p,
        ecosystem: 'composer',
        foundBy: name,
        ...(declared ? { declared: true } : {}),
      })),
    };
    if (problems.length > 0)
      result.unknowns = problems.map((message) => ({ path: input.path, message, source: name }));
    return result;
  } catch (error) {
    return { unknowns: [unknown(input.path, name, error)] };
  }
}

function unknown(path: string, source: string, error: unknown): Unknown {
  return { path, source, message: error instanceof Error ? error.message : String(error) };
}
