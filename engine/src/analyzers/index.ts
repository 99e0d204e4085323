/**
 * The explicit list of analyzers (no self-registration). Selection is by scan mode and by
 * name/tag selectors such as `-lang/java` or `+os`.
 */
import { EngineError } from '../errors.js';
import { apkAnalyzer } from './os/apk/index.js';
import { dpkgAnalyzer, dpkgFilesAnalyzer } from './os/dpkg/index.js';
import { osReleaseAnalyzer } from './os/release/index.js';
import { rpmAnalyzer } from './os/rpm/index.js';
import { dotnetDepsAnalyzer, nugetLockAnalyzer } from './lang/dotnet/index.js';
import { goBinaryAnalyzer } from './lang/go-binary/index.js';
import { javaArchiveAnalyzer } from './lang/java/index.js';
import { npmLockAnalyzer, npmPackageAnalyzer } from './lang/npm/index.js';
import { composerInstalledAnalyzer, composerLockAnalyzer } from './lang/php/index.js';
import { pythonLockAnalyzer, pythonPackageAnalyzer } from './lang/python/index.js';
import { rubyGemspecAnalyzer, rubyLockAnalyzer } from './lang/ruby/index.js';
import { cargoLockAnalyzer } from './lang/rust/index.js';
import { rustBinaryAnalyzer } from './lang/rust-binary/index.js';
import type { Analyzer, AnalyzerTag } from './types.js';

export const ANALYZERS = [
  osReleaseAnalyzer,
  apkAnalyzer,
  dpkgAnalyzer,
  dpkgFilesAnalyzer,
  rpmAnalyzer,
  npmPackageAnalyzer,
  npmLockAnalyzer,
  pythonPackageAnalyzer,
  pythonLockAnalyzer,
  rubyGemspecAnalyzer,
  rubyLockAnalyzer,
  composerInstalledAnalyzer,
  composerLockAnalyzer,
  cargoLockAnalyzer,
  dotnetDepsAnalyzer,
  nugetLockAnalyzer,
  goBinaryAnalyzer,
  rustBinaryAnalyzer,
  javaArchiveAnalyzer,
] as const satisfies readonly Analyzer[];

export type AnalyzerName = (typeof ANALYZERS)[number]['name'];

/**
 * What a scan mode reads: images and root filesystems report what is installed; directory
 * (project) scans add what lock files declare.
 */
export type ScanMode = 'image' | 'rootfs' | 'fs';

const MODE_TAGS: Record<ScanMode, readonly AnalyzerTag[]> = {
  image: ['release', 'installed'],
  rootfs: ['release', 'installed'],
  fs: ['release', 'installed', 'declared'],
};

/**
 * Analyzers for a mode, adjusted by selectors: `name` or `tag` keeps only matching ones when
 * given without a sign; `+x` adds, `-x` removes. Unknown names or tags are a config error
 * (ENG_INVALID_ARGUMENT) that lists the valid ones.
 */
export function selectAnalyzers(mode: ScanMode, selectors: readonly string[] = []): Analyzer[] {
  const tags = MODE_TAGS[mode];
  const all: readonly Analyzer[] = ANALYZERS;
  const matches = (a: Analyzer, sel: string) =>
    a.name === sel || a.name.startsWith(sel + '/') || (a.tags as readonly string[]).includes(sel);
  const known = (sel: string) => all.some((a) => matches(a, sel));
  let chosen = all.filter(
    (a) =>
      a.tags.some((t) => tags.includes(t)) &&
      a.tags.every((t) => t !== 'declared' || tags.includes('declared')),
  );
  const plain = selectors.filter((s) => !s.startsWith('+') && !s.startsWith('-'));
  for (const s of selectors.map((x) => x.replace(/^[+-]/, ''))) {
    if (!known(s)) {
      const names = all.map((a) => a.name).join(', ');
      throw new EngineError(
        'ENG_INVALID_ARGUMENT',
        `unknown analyzer or tag "${s}"; analyzers: ${names}; tags: release, os, lang, installed, declared, binary`,
      );
    }
  }
  if (plain.length > 0) chosen = all.filter((a) => plain.some((s) => matches(a, s)));
  for (const s of selectors) {
    if (s.startsWith('+'))
      for (const a of all.filter((x) => matches(x, s.slice(1)))) if (!chosen.includes(a)) chosen.push(a);
    if (s.startsWith('-')) chosen = chosen.filter((a) => !matches(a, s.slice(1)));
  }
  // the release analyzer is always needed to name the OS
  if (!chosen.includes(osReleaseAnalyzer)) chosen.unshift(osReleaseAnalyzer);
  return chosen;
}
