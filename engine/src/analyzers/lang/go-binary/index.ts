/**
 * Go binaries: modules compiled into an executable, read from its embedded build info
 * (what `go version -m` prints). ELF only (Linux images); Mach-O and PE files are ignored.
 * Non-Go executables yield nothing; a Go binary whose build info is damaged yields an unknown.
 */
import { defineAnalyzer, type AnalysisResult } from '../../types.js';
import { isBinaryCandidate } from '../binary-format/candidate.js';
import { readGoBuildInfo } from './buildinfo.js';
import { goPackages } from './packages.js';
import { parseModInfo } from './parse-modinfo.js';

const NAME = 'lang/go-binary';

/** Analyzer `lang/go-binary`: executables → `golang` packages incl. `stdlib` (see packages.ts). */
export const goBinaryAnalyzer = defineAnalyzer({
  name: NAME,
  version: 1,
  tags: ['lang', 'installed', 'binary'],
  required: (_path, info) => isBinaryCandidate(info),
  async analyze(input): Promise<AnalysisResult> {
    try {
      const info = await readGoBuildInfo(input.content);
      if (!info) return {};
      return { packages: goPackages(info.goVersion, parseModInfo(info.modinfo), NAME) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { unknowns: [{ path: input.path, message: `Go build info: ${message}`, source: NAME }] };
    }
  },
});
