/**
 * npm ecosystem analyzers (wiring; parsing lives in the parse-*.ts files beside this one).
 *
 * - `lang/npm` (installed): every `node_modules/<name>/package.json` and
 *   `node_modules/@scope/<name>/package.json`, at any nesting depth, which also covers global
 *   installs under `usr/lib/node_modules` and `usr/local/lib/node_modules`.
 *   Decision: a package.json deeper inside a package (`node_modules/foo/test/package.json`) is
 *   NOT read. Such files are test fixtures, examples or sub-builds whose name/version do not
 *   name an installed package. trivy reads any package.json under node_modules that has a
 *   name and a version and so reports those fixtures too; we take the false-negative risk
 *   (a package vendoring another one outside node_modules) over those false positives.
 *   Manifests without name or version (private workspaces, folder markers) are skipped
 *   silently; only a manifest that is not JSON becomes an unknown.
 * - `lang/npm-lock` (declared): package-lock.json, npm-shrinkwrap.json, yarn.lock (v1 and
 *   berry), pnpm-lock.yaml (v5, v6, v9) and bun.lock, outside node_modules (lock files shipped
 *   inside installed packages describe their authors' dev trees, not this project).
 */
import type { Package } from '../../../model/package.js';
import type { AnalysisResult, AnalyzerInput } from '../../types.js';
import { defineAnalyzer } from '../../types.js';
import { type LockEntry, decodeText } from './common.js';
import { parseBunLock } from './parse-bun-lock.js';
import { parseInstalledPackageJson } from './parse-package-json.js';
import { parsePackageLock } from './parse-package-lock.js';
import { parsePnpmLock } from './parse-pnpm-lock.js';
import { parseYarnLock } from './parse-yarn-lock.js';
import { baseName, parseProblem as problem } from '../text.js';

const INSTALLED_NAME = 'lang/npm';
const LOCK_NAME = 'lang/npm-lock';

/** `.../node_modules/<name>/package.json` or `.../node_modules/@scope/<name>/package.json`. */
const INSTALLED_RE = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/.@][^/]*\/package\.json$/;

/** Lock file base name → parser. */
const LOCK_PARSERS: ReadonlyMap<string, (text: string) => LockEntry[]> = new Map([
  ['package-lock.json', parsePackageLock],
  ['npm-shrinkwrap.json', parsePackageLock],
  ['yarn.lock', parseYarnLock],
  ['pnpm-lock.yaml', parsePnpmLock],
  ['bun.lock', parseBunLock],
]);

/**
 * Installed npm packages from `node_modules/**\/package.json`.
 * Output: one package (name, version, licenses) per manifest with a name and a version.
 * Errors: a manifest that is not a JSON object becomes an unknown; analyze never rejects.
 */
export const npmPackageAnalyzer = defineAnalyzer({
  name: INSTALLED_NAME,
  version: 1,
  tags: ['lang', 'installed'],
  required(path: string): boolean {
    return INSTALLED_RE.test(path);
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    try {
      const pkg = parseInstalledPackageJson(decodeText(await input.content.read()));
      if (!pkg) return {};
      const out: Package = {
        name: pkg.name,
        version: pkg.version,
        ecosystem: 'npm',
        foundBy: INSTALLED_NAME,
      };
      if (pkg.licenses.length > 0) out.licenses = pkg.licenses;
      return { packages: [out] };
    } catch (error) {
      return problem(input, INSTALLED_NAME, error);
    }
  },
});

/**
 * Declared npm packages from lock files (directory scans).
 * Output: deduped packages with `declared: true`, and `dev: true` where the lock file says a
 * package is only needed for development (package-lock, pnpm-lock; yarn.lock and bun.lock do
 * not record it). Local workspace/link/file entries and git/tarball references without a
 * release version are left out.
 * Errors: a lock file that does not parse becomes an unknown; analyze never rejects.
 */
export const npmLockAnalyzer = defineAnalyzer({
  name: LOCK_NAME,
  version: 1,
  tags: ['lang', 'declared'],
  required(path: string): boolean {
    return LOCK_PARSERS.has(baseName(path)) && !/(?:^|\/)node_modules\//.test(path);
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    const parse = LOCK_PARSERS.get(baseName(input.path));
    if (!parse) return {};
    try {
      const entries = parse(decodeText(await input.content.read()));
      return {
        packages: entries.map((e) => {
          const p: Package = {
            name: e.name,
            version: e.version,
            ecosystem: 'npm',
            foundBy: LOCK_NAME,
            declared: true,
          };
          if (e.dev) p.dev = true;
          return p;
        }),
      };
    } catch (error) {
      return problem(input, LOCK_NAME, error);
    }
  },
});
