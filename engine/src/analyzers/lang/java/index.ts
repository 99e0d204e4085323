/**
 * Java archives (jar, war, ear and the plugin/resource variants par, sar, jpi, hpi, nar):
 * Maven packages from embedded pom.properties, MANIFEST.MF or the file name, recursing into
 * nested archives (see archive.ts for the rules). A file that is not a readable zip yields an
 * unknown; damaged entries and nested archives yield unknowns and the rest is still reported.
 */
import { isEngineError } from '../../../errors.js';
import type { Package } from '../../../model/package.js';
import { defineAnalyzer, type AnalysisResult } from '../../types.js';
import { walkArchive, type WalkContext } from './archive.js';

const NAME = 'lang/java';
const EXTENSIONS = /\.(?:jar|war|ear|par|sar|jpi|hpi|nar)$/i;

/** Analyzer `lang/java`: Java archives → `maven` packages named `groupId:artifactId`. */
export const javaArchiveAnalyzer = defineAnalyzer({
  name: NAME,
  version: 1,
  tags: ['lang', 'installed'],
  required: (path) => EXTENSIONS.test(path),
  async analyze(input): Promise<AnalysisResult> {
    const ctx: WalkContext = {
      foundBy: NAME,
      path: input.path,
      unknowns: [],
      inflated: 0,
      listed: 0,
      opened: 0,
    };
    if (input.signal) ctx.signal = input.signal;
    let packages: Package[] = [];
    try {
      const fileName = input.path.slice(input.path.lastIndexOf('/') + 1);
      packages = dedupe(await walkArchive(input.content, fileName, undefined, 0, ctx));
    } catch (error) {
      if (isEngineError(error) && error.code === 'ENG_ABORTED') throw error;
      const message = error instanceof Error ? error.message : String(error);
      ctx.unknowns.push({
        path: input.path,
        message: `not a readable Java archive: ${message}`,
        source: NAME,
      });
    }
    const result: AnalysisResult = {};
    if (packages.length) result.packages = packages;
    if (ctx.unknowns.length) result.unknowns = ctx.unknowns;
    return result;
  },
});

/** Drops repeats of the same name and version within the same (nested) archive. */
function dedupe(packages: Package[]): Package[] {
  const seen = new Set<string>();
  return packages.filter((p) => {
    const key = `${p.name}\0${p.version}\0${p.metadata?.archivePath ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
