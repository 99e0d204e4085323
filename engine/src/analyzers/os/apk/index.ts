/**
 * Alpine, Wolfi and Chainguard packages (trivy `analyzer/pkg/apk`, syft `cataloger/alpine`,
 * scalibr `os/apk`): the installed packages of the apk database and the files they own (used by
 * the core to drop language packages an OS package already covers).
 */
import { defineAnalyzer, type AnalysisResult, type AnalyzerInput } from '../../types.js';
import { parseApkInstalledDb } from './parse-installed-db.js';

const INSTALLED_DB = 'lib/apk/db/installed';

/**
 * `os/apk`: lib/apk/db/installed (with a usr-merged /lib the core resolves the symlink to this
 * path). Result: `apk` packages, `ownedFiles` from the F:/R: lines, and one unknown per stanza
 * without a valid name or version. Never throws on content.
 */
export const apkAnalyzer = defineAnalyzer({
  name: 'os/apk',
  version: 1,
  tags: ['os', 'installed'],
  staticPaths: [INSTALLED_DB],
  required(path: string): boolean {
    return path === INSTALLED_DB;
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    const text = (await input.content.read()).toString('utf8');
    const { packages, ownedFiles, unknowns } = parseApkInstalledDb(text, input.path, 'os/apk');
    return { packages, ownedFiles, unknowns };
  },
});
