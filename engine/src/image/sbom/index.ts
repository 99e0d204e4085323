/**
 * SBOM input (`vigil sbom FILE`): a CycloneDX or SPDX JSON document becomes an inventory
 * (ScanResult of kind `sbom`) that matching treats like a scanned image.
 *
 * Format by content: `bomFormat: "CycloneDX"` (cyclonedx.ts) or `spdxVersion: "SPDX-2.x"`
 * (spdx.ts). Packages come from purls (purl-package.ts); the OS from an operating-system
 * component / package, else from the first OS package purl's `distro` qualifier. Problems with
 * single packages become unknowns and the result is `partial`; only a file that is not such a
 * document at all is an error.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { EngineError } from '../../errors.js';
import type { ScanResult } from '../../model/scan.js';
import { readCycloneDx } from './cyclonedx.js';
import { entriesToPackages } from './entries.js';
import { isObject, sbomInvalid } from './json.js';
import { readSpdx } from './spdx.js';

export type SbomFormat = 'cyclonedx' | 'spdx';

/** Largest SBOM read (JSON.parse needs the whole text in memory). */
export const MAX_SBOM_BYTES = 256 * 1024 * 1024;

export interface ParseSbomOptions {
  /** file name for messages and unknowns, and the artifact name when the SBOM names none */
  name?: string;
  /** clock for startedAt / finishedAt (tests) */
  now?: () => Date;
}

function hint(text: string): string {
  const head = text.trimStart().slice(0, 200);
  if (head.startsWith('<')) return 'XML SBOMs are not supported; use the JSON form';
  if (/^SPDXVersion:/m.test(text.slice(0, 4096))) return 'SPDX tag-value is not supported; use SPDX JSON';
  return 'not JSON';
}

/** Tells the format of a parsed document, or undefined. */
export function detectSbomFormat(doc: unknown): SbomFormat | undefined {
  if (!isObject(doc)) return undefined;
  if (doc.bomFormat === 'CycloneDX') return 'cyclonedx';
  if (typeof doc.spdxVersion === 'string' && /^SPDX-2\.\d+$/.test(doc.spdxVersion.trim())) return 'spdx';
  return undefined;
}

/**
 * Reads an SBOM from its text or bytes. Never throws for package-level content.
 *
 * @throws EngineError ENG_SBOM_INVALID when the input is not UTF-8 JSON, not CycloneDX or SPDX 2.x
 *   (the message says what it looks like: XML, tag-value, SPDX 3, other JSON), or its package
 *   list is not a list.
 */
export function parseSbom(input: string | Uint8Array, options: ParseSbomOptions = {}): ScanResult {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const source = options.name ?? 'sbom';
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw sbomInvalid(`${source}: not UTF-8 text`);
  }
  text = text.replace(/^\uFEFF/, '');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw sbomInvalid(`${source}: ${hint(text)}`);
  }
  const format = detectSbomFormat(doc);
  if (!format || !isObject(doc)) {
    const spdx3 = isObject(doc) && JSON.stringify(doc['@context'] ?? '').includes('spdx.org/rdf/3');
    throw sbomInvalid(
      `${source}: ${spdx3 ? 'SPDX 3 is not supported' : 'not a CycloneDX or SPDX 2.x JSON document'}`,
    );
  }
  const content = format === 'cyclonedx' ? readCycloneDx(doc, source) : readSpdx(doc, source);
  const built = entriesToPackages(content.entries, {
    source,
    foundBy: `sbom/${format}`,
    refKey: format === 'cyclonedx' ? 'bomRef' : 'spdxId',
  });
  const unknowns = [...content.unknowns, ...built.unknowns];
  let os = content.os;
  if (!os && built.distros.length > 0) {
    os = built.distros[0]!;
    if (built.distros.length > 1) {
      unknowns.push({
        path: source,
        message: `package purls name ${built.distros.length} distributions (${built.distros
          .map((d) => `${d.family}-${d.version}`)
          .join(', ')}); using ${os.family} ${os.version}`,
        source: `sbom/${format}`,
      });
    }
  }
  const result: ScanResult = {
    artifact: { ...content.artifact, name: content.artifact.name ?? basename(source), kind: 'sbom' },
    packages: built.packages,
    unknowns,
    status: unknowns.length > 0 ? 'partial' : 'succeeded',
    startedAt,
    finishedAt: now().toISOString(),
  };
  if (os) result.os = os;
  return result;
}

/**
 * Reads an SBOM file (see parseSbom).
 *
 * @throws EngineError ENG_IMAGE_SOURCE_NOT_FOUND when the path does not exist; ENG_SBOM_INVALID
 *   when it is not a regular file, is over MAX_SBOM_BYTES, or is not a CycloneDX / SPDX JSON SBOM.
 */
export async function readSbom(
  path: string,
  options: Omit<ParseSbomOptions, 'name'> = {},
): Promise<ScanResult> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new EngineError('ENG_IMAGE_SOURCE_NOT_FOUND', `SBOM file ${path} does not exist`);
  if (!info.isFile()) throw sbomInvalid(`${path}: not a regular file`);
  if (info.size > MAX_SBOM_BYTES) throw sbomInvalid(`${path}: larger than ${MAX_SBOM_BYTES} bytes`);
  return parseSbom(await readFile(path), { ...options, name: path });
}
