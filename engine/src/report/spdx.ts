/**
 * SPDX 2.3 JSON inventory, written by hand (spec: https://spdx.github.io/spdx-spec/v2.3/,
 * JSON schema: schemas/spdx-schema-2.3.json).
 *
 * - Packages: the artifact (`SPDXRef-Artifact`, purpose CONTAINER for images), the OS
 *   (`SPDXRef-OperatingSystem`, purpose OPERATING_SYSTEM: the JSON schema's spelling of the
 *   spec's OPERATING-SYSTEM) and one per package (`SPDXRef-Package-<ecosystem>-<name>`,
 *   reduced to the SPDX id alphabet [A-Za-z0-9.-], with a hash suffix when two collide).
 * - Relationships: DOCUMENT DESCRIBES artifact; artifact CONTAINS the OS and every package.
 * - Licenses: licenseConcluded is NOASSERTION (Vigil concludes nothing); licenseDeclared is the
 *   package's declared licenses when all form a valid SPDX expression, else NOASSERTION.
 * - Where each package was found (layer, path, source package, analyzer) goes into OTHER
 *   annotations `vigil:<key>=<value>`, the SPDX counterpart of CycloneDX properties.
 */
import { randomUUID } from 'node:crypto';
import type { Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { imagePurl } from '../purl/index.js';
import { spdxLicenseExpression } from './license.js';
import { REPORT_TOOL, resolvePackages } from './packages.js';
import { uniqueIds } from './unique-ids.js';

export interface SpdxOptions {
  /** creationInfo.created; default now. Written as `YYYY-MM-DDThh:mm:ssZ`. */
  created?: Date | string;
  /** documentNamespace (an absolute URI without `#`); default a fresh one under vigil.invalid. */
  namespace?: string;
}

const NOASSERTION = 'NOASSERTION';
const IMAGE_KINDS: ReadonlySet<string> = new Set(['registry', 'docker-archive', 'oci-layout']);

interface SpdxExternalRef {
  referenceCategory: 'PACKAGE-MANAGER';
  referenceType: 'purl';
  referenceLocator: string;
}

interface SpdxAnnotation {
  annotationDate: string;
  annotationType: 'OTHER';
  annotator: string;
  comment: string;
}

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: string;
  primaryPackagePurpose?: 'CONTAINER' | 'OPERATING_SYSTEM' | 'OTHER';
  description?: string;
  sourceInfo?: string;
  externalRefs?: SpdxExternalRef[];
  annotations?: SpdxAnnotation[];
}

/** Characters outside the SPDX id alphabet become `-`; runs collapse. */
export function spdxIdPart(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** ISO 8601 UTC without fractions, as SPDX asks: `2024-05-01T12:00:00Z`. */
function spdxDate(value: Date | string | undefined): string {
  const d = value === undefined ? new Date() : new Date(value);
  const t = Number.isNaN(d.getTime()) ? new Date() : d;
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function purlRef(purl: string | undefined): SpdxExternalRef[] | undefined {
  return purl
    ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }]
    : undefined;
}

function base(SPDXID: string, name: string, versionInfo: string | undefined): SpdxPackage {
  return {
    SPDXID,
    name,
    // set here, even when undefined, to keep the key next to the name in the output
    versionInfo,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
  };
}

function packageEntry(
  id: string,
  pkg: Package,
  purl: string,
  annotate: (c: string) => SpdxAnnotation,
): SpdxPackage {
  const p = base(id, pkg.name, pkg.version);
  p.licenseDeclared = spdxLicenseExpression(pkg.licenses) ?? NOASSERTION;
  if (pkg.path) p.sourceInfo = `found by ${pkg.foundBy} in ${pkg.path}`;
  const refs = purlRef(purl);
  if (refs) p.externalRefs = refs;
  const notes = (
    [
      ['foundBy', pkg.foundBy],
      ['layer', pkg.layer],
      ['path', pkg.path],
      ['srcName', pkg.srcName],
      ['srcVersion', pkg.srcVersion],
    ] as const
  ).filter(([, v]) => v);
  if (notes.length) p.annotations = notes.map(([k, v]) => annotate(`vigil:${k}=${v}`));
  return p;
}

/**
 * Renders `scan` as an SPDX 2.3 JSON document (2-space indented). Deterministic apart from
 * `created` and `namespace` when they are not given. Never throws on package content.
 */
export function toSpdx(scan: ScanResult, options: SpdxOptions = {}): string {
  const created = spdxDate(options.created);
  const tool = `Tool: ${REPORT_TOOL.name}-${REPORT_TOOL.version}`;
  const a = scan.artifact;
  const namespace =
    options.namespace ?? `https://vigil.invalid/spdx/${a.kind}/${encodeURIComponent(a.name)}-${randomUUID()}`;
  const annotate = (comment: string): SpdxAnnotation => ({
    annotationDate: created,
    annotationType: 'OTHER',
    annotator: tool,
    comment,
  });

  const root = base('SPDXRef-Artifact', a.name, a.digest ?? a.configDigest);
  root.primaryPackagePurpose = IMAGE_KINDS.has(a.kind) ? 'CONTAINER' : 'OTHER';
  const rootRefs = purlRef(imagePurl(a));
  if (rootRefs) root.externalRefs = rootRefs;
  const packages: SpdxPackage[] = [root];
  const relationships = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root.SPDXID },
  ];
  const contains = (id: string) =>
    relationships.push({ spdxElementId: root.SPDXID, relationshipType: 'CONTAINS', relatedSpdxElement: id });

  if (scan.os) {
    const os = base('SPDXRef-OperatingSystem', scan.os.family, scan.os.version);
    os.primaryPackagePurpose = 'OPERATING_SYSTEM';
    if (scan.os.prettyName) os.description = scan.os.prettyName;
    packages.push(os);
    contains(os.SPDXID);
  }

  const resolved = resolvePackages(scan);
  const ids = uniqueIds(
    resolved.map(({ pkg }) => ({ pkg, base: `SPDXRef-Package-${pkg.ecosystem}-${spdxIdPart(pkg.name)}` })),
    (b, id) => `${b}-${id}`,
  );
  resolved.forEach(({ pkg, purl }, i) => {
    packages.push(packageEntry(ids[i]!, pkg, purl, annotate));
    contains(ids[i]!);
  });

  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: a.name,
    documentNamespace: namespace,
    creationInfo: { created, creators: [tool] },
    packages,
    relationships,
  };
  return JSON.stringify(doc, null, 2);
}
