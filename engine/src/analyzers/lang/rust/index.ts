/**
 * Rust crates a project declares in `Cargo.lock` (V1–V4). Crates compiled into binaries are
 * read by `lang/rust-binary` (cargo-auditable data), not here.
 */
import { throwIfAborted } from '../../../errors.js';
import { defineAnalyzer, type AnalysisResult, type FileInfo } from '../../types.js';
import { parseCargoLock } from './parse-cargo-lock.js';
import { decodeText } from '../text.js';

const NAME = 'lang/cargo-lock';

/**
 * Crates locked in `Cargo.lock`. Packages: ecosystem `cargo`, `declared: true`; crates without
 * a `source` (the workspace's own and path dependencies) are skipped. Invalid TOML becomes an
 * unknown; unreadable `[[package]]` tables are summarised in one unknown.
 */
export const cargoLockAnalyzer = defineAnalyzer({
  name: NAME,
  version: 1,
  tags: ['lang', 'declared'],
  required: (path: string, _info: FileInfo): boolean => path === 'Cargo.lock' || path.endsWith('/Cargo.lock'),
  async analyze(input): Promise<AnalysisResult> {
    throwIfAborted(input.signal);
    try {
      const { crates, problems } = parseCargoLock(decodeText(await input.content.read()));
      const result: AnalysisResult = {
        packages: crates.map((c) => ({ ...c, ecosystem: 'cargo', foundBy: NAME, declared: true })),
      };
      if (problems.length > 0)
        result.unknowns = problems.map((message) => ({ path: input.path, message, source: NAME }));
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { unknowns: [{ path: input.path, message, source: NAME }] };
    }
  },
});
