/**
 * Python (PyPI) analyzers (wiring; parsing lives in the parse-*.ts files beside this one).
 *
 * - `lang/python` (installed): distribution metadata left by pip/setuptools/wheel installs:
 *   `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, single-file `*.egg-info` and
 *   `EGG-INFO/PKG-INFO` (unpacked eggs), in any directory (site-packages, dist-packages, ...).
 *   Metadata without Name or Version becomes an unknown.
 * - `lang/python-lock` (declared): poetry.lock, Pipfile.lock, uv.lock, pdm.lock and
 *   requirements*.txt (pinned requirements only), outside site-packages/dist-packages.
 * Names are reported as written in the file; matching normalises them (PEP 503).
 */
import type { Package } from '../../../model/package.js';
import type { AnalysisResult, AnalyzerInput } from '../../types.js';
import { defineAnalyzer } from '../../types.js';
import { type LockEntry, decodeText } from './common.js';
import { parseMetadata } from './parse-metadata.js';
import { parsePdmLock } from './parse-pdm-lock.js';
import { parsePipfileLock } from './parse-pipfile-lock.js';
import { parsePoetryLock } from './parse-poetry-lock.js';
import { parseRequirements } from './parse-requirements.js';
import { parseUvLock } from './parse-uv-lock.js';
import { baseName, parseProblem as problem } from '../text.js';

const INSTALLED_NAME = 'lang/python';
const LOCK_NAME = 'lang/python-lock';

const METADATA_RE =
  /(?:^|\/)(?:[^/]+\.dist-info\/METADATA|[^/]+\.egg-info\/PKG-INFO|[^/]+\.egg-info|EGG-INFO\/PKG-INFO)$/;
const REQUIREMENTS_RE = /^requirements[^/]*\.txt$/;
/** Lock files shipped inside installed packages describe their authors' environments. */
const INSIDE_INSTALLED_RE = /(?:^|\/)(?:site-packages|dist-packages|node_modules)\//;

/** Lock file base name → parser. */
const LOCK_PARSERS: ReadonlyMap<string, (text: string) => LockEntry[]> = new Map([
  ['poetry.lock', parsePoetryLock],
  ['Pipfile.lock', parsePipfileLock],
  ['uv.lock', parseUvLock],
  ['pdm.lock', parsePdmLock],
]);

function lockParser(path: string): ((text: string) => LockEntry[]) | undefined {
  const base = baseName(path);
  return LOCK_PARSERS.get(base) ?? (REQUIREMENTS_RE.test(base) ? parseRequirements : undefined);
}

/**
 * Installed Python distributions from their metadata files.
 * Output: one package (name, version, licenses) per metadata file.
 * Errors: metadata without Name or Version becomes an unknown; analyze never rejects.
 */
export const pythonPackageAnalyzer = defineAnalyzer({
  name: INSTALLED_NAME,
  version: 1,
  tags: ['lang', 'installed'],
  required(path: string): boolean {
    return METADATA_RE.test(path);
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    try {
      const meta = parseMetadata(decodeText(await input.content.read()));
      const out: Package = {
        name: meta.name,
        version: meta.version,
        ecosystem: 'pypi',
        foundBy: INSTALLED_NAME,
      };
      if (meta.licenses.length > 0) out.licenses = meta.licenses;
      return { packages: [out] };
    } catch (error) {
      return problem(input, INSTALLED_NAME, error);
    }
  },
});

/**
 * Declared Python packages from lock and requirements files (directory scans).
 * Output: deduped packages with `declared: true`, and `dev: true` where the file says a package
 * is for development only (Pipfile.lock `develop`, poetry `category`/`groups`, uv dev groups).
 * Errors: a file that does not parse becomes an unknown; analyze never rejects.
 */
export const pythonLockAnalyzer = defineAnalyzer({
  name: LOCK_NAME,
  version: 1,
  tags: ['lang', 'declared'],
  required(path: string): boolean {
    return lockParser(path) !== undefined && !INSIDE_INSTALLED_RE.test(path);
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    const parse = lockParser(input.path);
    if (!parse) return {};
    try {
      const entries = parse(decodeText(await input.content.read()));
      return {
        packages: entries.map((e) => {
          const p: Package = {
            name: e.name,
            version: e.version,
            ecosystem: 'pypi',
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
