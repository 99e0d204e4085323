/**
 * Rust binaries built with cargo-auditable: crates read from the `.dep-v0` ELF section
 * (see parse-audit-data.ts). ELF only (Linux images). Executables without the section yield
 * nothing; a present but unreadable section yields an unknown.
 */
import { defineAnalyzer, type AnalysisResult } from '../../types.js';
import { isBinaryCandidate } from '../binary-format/candidate.js';
import { findSection, readElf, readSection } from '../binary-format/elf.js';
import { cargoPackages, MAX_AUDIT_JSON, parseAuditData } from './parse-audit-data.js';

const NAME = 'lang/rust-binary';

/** Analyzer `lang/rust-binary`: executables with cargo-auditable data → `cargo` packages. */
export const rustBinaryAnalyzer = defineAnalyzer({
  name: NAME,
  version: 1,
  tags: ['lang', 'installed', 'binary'],
  required: (_path, info) => isBinaryCandidate(info),
  async analyze(input): Promise<AnalysisResult> {
    const unknown = (message: string): AnalysisResult => ({
      unknowns: [{ path: input.path, message: `cargo-auditable data: ${message}`, source: NAME }],
    });
    try {
      const elf = await readElf(input.content);
      const section = elf && findSection(elf, '.dep-v0');
      if (!section) return {};
      // compressed data is smaller than its (capped) JSON
      const data = await readSection(input.content, section, MAX_AUDIT_JSON);
      if (!data) return unknown(`.dep-v0 section (${section.size} bytes) is unreadable or too large`);
      return { packages: cargoPackages(parseAuditData(data), NAME) };
    } catch (error) {
      return unknown(error instanceof Error ? error.message : String(error));
    }
  },
});
