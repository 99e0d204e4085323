/**
 * Parses cargo-auditable dependency data: the JSON document a Rust binary built with
 * `cargo auditable build` carries, zlib-compressed, in its `.dep-v0` linker section.
 *
 * Format: https://github.com/rust-secure-code/cargo-auditable/blob/master/PARSING.md and the
 * schema of auditable-serde (`{"packages":[{"name","version","source","kind"?,"dependencies"?,
 * "root"?}]}`; `kind` is omitted for runtime dependencies, `root` when false).
 */
import { inflateSync } from 'node:zlib';
import type { Package } from '../../../model/package.js';

/** PARSING.md asks readers to cap the decompressed size; cargo-auditable's own reader uses 8 MiB. */
export const MAX_AUDIT_JSON = 8 << 20;

export interface AuditPackage {
  name: string;
  version: string;
  source?: string;
  kind: 'runtime' | 'build';
  root: boolean;
}

/** Error in the audit data of a binary that has a `.dep-v0` section. */
export class AuditDataError extends Error {
  override name = 'AuditDataError';
}

/**
 * Inflates and parses the section content.
 * @throws AuditDataError on a zlib error, output over MAX_AUDIT_JSON, invalid JSON or a
 *   document without a `packages` array. Entries without a string name and version are skipped.
 */
export function parseAuditData(compressed: Buffer): AuditPackage[] {
  let json: string;
  try {
    json = inflateSync(compressed, { maxOutputLength: MAX_AUDIT_JSON }).toString('utf8');
  } catch (error) {
    const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new AuditDataError(
      tooLarge ? 'decompressed data over 8 MiB' : `cannot inflate: ${(error as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new AuditDataError('invalid JSON');
  }
  const packages = (doc as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(packages)) throw new AuditDataError('no "packages" array');
  const out: AuditPackage[] = [];
  for (const p of packages as unknown[]) {
    if (typeof p !== 'object' || p === null) continue;
    const { name, version, source, kind, root } = p as Record<string, unknown>;
    if (typeof name !== 'string' || !name || typeof version !== 'string' || !version) continue;
    const pkg: AuditPackage = {
      name,
      version,
      kind: kind === 'build' ? 'build' : 'runtime',
      root: root === true,
    };
    if (typeof source === 'string') pkg.source = source;
    out.push(pkg);
  }
  return out;
}

/**
 * Audit packages → `cargo` packages, as trivy does (pkg/dependency/parser/rust/binary): build
 * dependencies (build scripts, proc macros) are not in the binary and are dropped; the root
 * crate (the binary's own package) is kept, marked `metadata.root`. Duplicates are dropped.
 */
export function cargoPackages(audit: AuditPackage[], foundBy: string): Package[] {
  const seen = new Set<string>();
  const out: Package[] = [];
  for (const a of audit) {
    const key = `${a.name}@${a.version}`;
    if (a.kind !== 'runtime' || seen.has(key)) continue;
    seen.add(key);
    const p: Package = { name: a.name, version: a.version, ecosystem: 'cargo', foundBy };
    if (a.root) p.metadata = { root: true };
    out.push(p);
  }
  return out;
}
