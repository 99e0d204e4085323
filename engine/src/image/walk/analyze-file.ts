/**
 * Runs the analyzers that want a file and turns their throws into unknowns, so one bad file
 * never stops a walk.
 */
import type { Analyzer, AnalysisResult, FileContent } from '../../analyzers/types.js';
import type { Unknown } from '../../model/unknown.js';
import { EngineError, isEngineError } from '../../errors.js';
import type { FileAnalysis } from './types.js';

function compact(result: AnalysisResult, path: string, analyzer: string): AnalysisResult | undefined {
  const out: AnalysisResult = {};
  if (result.packages?.length) out.packages = result.packages;
  if (result.os) out.os = result.os;
  if (result.ownedFiles?.length) out.ownedFiles = result.ownedFiles;
  if (result.unknowns?.length) {
    out.unknowns = result.unknowns.map((u) => ({ ...u, path: u.path || path, source: u.source ?? analyzer }));
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Calls `analyze` of each analyzer on one file. Returns the non-empty results; analyzer failures
 * become unknowns in `unknowns`. An abort is rethrown.
 */
export async function analyzeFile(
  analyzers: readonly Analyzer[],
  file: { path: string; size: number; mode: number; content: FileContent },
  unknowns: Unknown[],
  signal?: AbortSignal,
): Promise<FileAnalysis[]> {
  const out: FileAnalysis[] = [];
  for (const analyzer of analyzers) {
    if (signal?.aborted) throw new EngineError('ENG_ABORTED', 'scan aborted', { cause: signal.reason });
    try {
      const result = await analyzer.analyze({ ...file, signal });
      const kept = compact(result ?? {}, file.path, analyzer.name);
      if (kept) out.push({ path: file.path, analyzer: analyzer.name, result: kept });
    } catch (e) {
      if (isEngineError(e) && e.code === 'ENG_ABORTED') throw e;
      const message = e instanceof Error ? e.message : String(e);
      unknowns.push({
        path: file.path,
        message: `${analyzer.name} failed: ${message}`,
        source: analyzer.name,
      });
    }
  }
  return out;
}
