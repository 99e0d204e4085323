/**
 * Go build info → packages, with trivy's choices (pkg/dependency/parser/golang/binary):
 * - the toolchain is package `stdlib`, version `v` + the Go version without `go` and without
 *   experiment suffixes (`go1.22.3 X:boringcrypto` → `v1.22.3`); a development toolchain
 *   (`devel go1.23-…`) has no release version and yields no stdlib package;
 * - every `dep` becomes a package; a `=>` replacement wins (its path and version), also when it
 *   is a local directory (`../localdep`), which then has no version;
 * - the main module is reported (metadata `mainModule: true`). `(devel)` — what `go build`
 *   stamps outside `go install` — is not a version: it becomes the `-ldflags -X …version=`
 *   value when there is one (also over a `v0.0.0-…` pseudo-version), else `''`;
 * - build settings are not packages.
 */
import type { Package } from '../../../model/package.js';
import { ldflagsVersion, type GoModule, type ModInfo } from './parse-modinfo.js';

/** `go1.22.1` → `v1.22.1`; `undefined` when the version is not a release version. */
export function stdlibVersion(goVersion: string): string | undefined {
  if (!goVersion.startsWith('go')) return undefined;
  const v = goVersion.slice(2).split(' ')[0]!;
  return /^\d/.test(v) ? `v${v}` : undefined;
}

function moduleVersion(version: string): string {
  return version === '(devel)' ? '' : version;
}

/**
 * Builds the package list of one binary.
 * @param goVersion toolchain version from the build info header
 * @param info parsed modinfo
 * @param foundBy analyzer name
 */
export function goPackages(goVersion: string, info: ModInfo, foundBy: string): Package[] {
  const pkgs: Package[] = [];
  const add = (name: string, version: string, metadata?: Package['metadata']) => {
    const p: Package = { name, version, ecosystem: 'golang', foundBy };
    if (metadata) p.metadata = metadata;
    pkgs.push(p);
  };
  if (info.main?.path) {
    let version = moduleVersion(info.main.version);
    const ldflags = info.settings.find(([k]) => k === '-ldflags')?.[1];
    const stamped = ldflags ? ldflagsVersion(info.main.path, ldflags) : '';
    if (stamped && (version === '' || version.startsWith('v0.0.0'))) version = stamped;
    add(info.main.path, version, { mainModule: true });
  }
  for (const dep of info.deps) {
    // Old toolchains may list the main module as a dep with no path.
    if (!dep.path) continue;
    const mod: GoModule = dep.replace?.path ? dep.replace : dep;
    add(mod.path, moduleVersion(mod.version));
  }
  const std = stdlibVersion(goVersion);
  if (std) add('stdlib', std);
  return pkgs;
}
