/**
 * Alpine, Wolfi and Chainguard packages (trivy `analyzer/pkg/apk`, syft `cataloger/alpine`,
 * scalibr `os/apk`): the installed packages of the apk database and the files they own (used by
 * the core to drop language packages an OS package already covers).
 */
import { defineAnalyzer, type AnalysisResult, type AnalyzerInput } from '../../types.js';
import { parseApkInstalledDb } from './parse-installed-db.js';

/**
 * The classic path, and the usr-merged one Wolfi and Chainguard moved to in 2025 (`lib` → `usr/lib`,
 * the database stored at usr/lib/apk/db/installed). Layers store files at their real path, so
 * both are asked for; an image has one of them.
 */
const INSTALLED_DBS = ['lib/apk/db/installed', 'usr/lib/apk/db/installed'];

/**
 * `os/apk`: the installed database at either path. Result: `apk` packages, `ownedFiles` from the F:/R: lines, and one unknown per stanza
 * without a valid name or version. Never throws on content.
 */
export const apkAnalyzer = defineAnalyzer({
  name: 'os/apk',
  version: 2,
  tags: ['os', 'installed'],
  staticPaths: INSTALLED_DBS,
  required(path: string): boolean {
    return INSTALLED_DBS.includes(path);
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    const text = (await input.content.read()).toString('utf8');
    const { packages, ownedFiles, unknowns } = parseApkInstalledDb(text, input.path, 'os/apk');
    return { packages, ownedFiles, unknowns };
  },
});
