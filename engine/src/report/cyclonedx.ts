/**
 * CycloneDX 1.6 JSON inventory (https://cyclonedx.org/docs/1.6/json/), built with
 * @cyclonedx/cyclonedx-library models and serialised by its JsonSerializer.
 *
 * Shape (close to what trivy emits for images):
 * - metadata.component: the scanned artifact (type `container` for images, `application` for
 *   directories and SBOM inputs), version = manifest digest (else config digest).
 * - one `operating-system` component for the OS; one `library` component per package with its
 *   purl, licenses and `vigil:` properties (foundBy, layer, path, srcName, srcVersion).
 * - dependencies: artifact → OS, OS → OS packages, artifact → the other packages (containment,
 *   as trivy models it, so viewers can draw the tree).
 * - for a matched scan: `vulnerabilities` (cyclonedx-vulnerabilities.ts) whose `affects` point
 *   at the package components, and the database snapshot and matching warnings as metadata
 *   properties (`vigil:db:version`, `vigil:db:builtAt`, `vigil:warning`).
 * Output is deterministic apart from serialNumber and timestamp, both injectable.
 */
import { randomUUID } from 'node:crypto';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { isSupportedSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';
import { OS_ECOSYSTEMS, type Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { imagePurl } from '../purl/index.js';
import { cycloneDxVulnerabilities } from './cyclonedx-vulnerabilities.js';
import { asVulnerabilityResult, type ReportInput } from './findings.js';
import { normalizeSpdxExpression, spdxLicenseExpression } from './license.js';
import { REPORT_TOOL, resolvePackages } from './packages.js';
import { packageId, uniqueIds } from './unique-ids.js';

export interface CycloneDxOptions {
  /** `urn:uuid:…`; default a random one. */
  serialNumber?: string;
  /** Document time; default now. */
  timestamp?: Date;
}

const IMAGE_KINDS: ReadonlySet<string> = new Set(['registry', 'docker-archive', 'oci-layout']);

function prop(name: string, value: string | undefined): Models.Property[] {
  return value ? [new Models.Property(name, value)] : [];
}

function licensesOf(pkg: Package): Models.License[] {
  const entries = pkg.licenses?.filter((l) => l.trim()) ?? [];
  if (entries.length === 0) return [];
  const ids = entries.map((e) => normalizeSpdxExpression(e));
  if (ids.every((id): id is string => id !== undefined && isSupportedSpdxId(id))) {
    return [...new Set(ids)].map((id) => new Models.SpdxLicense(id));
  }
  // 1.6 allows either a list of licenses or exactly one expression, never both
  const expr = spdxLicenseExpression(entries);
  if (expr) return [new Models.LicenseExpression(expr)];
  return entries.map((e, i) =>
    isSupportedSpdxId(ids[i]) ? new Models.SpdxLicense(ids[i]!) : new Models.NamedLicense(e),
  );
}

function artifactComponent(scan: ScanResult): Models.Component {
  const a = scan.artifact;
  const purl = imagePurl(a);
  const type = IMAGE_KINDS.has(a.kind) ? Enums.ComponentType.Container : Enums.ComponentType.Application;
  const c = new Models.Component(type, a.name, { bomRef: purl ?? 'vigil:artifact' });
  const version = a.digest ?? a.configDigest;
  if (version) c.version = version;
  if (purl) c.purl = purl;
  for (const p of [
    ...prop('vigil:artifact:kind', a.kind),
    ...prop('vigil:image:configDigest', a.configDigest),
    ...(a.repoTags ?? []).flatMap((t) => prop('vigil:image:repoTag', t)),
    ...(a.repoDigests ?? []).flatMap((d) => prop('vigil:image:repoDigest', d)),
    ...(a.layers ?? []).flatMap((l) => prop('vigil:image:layerDiffId', l.diffId)),
  ]) {
    c.properties.add(p);
  }
  return c;
}

/**
 * Renders `input` as a CycloneDX 1.6 JSON document (2-space indented). Components follow the
 * report package order; bom-refs are the purls, made unique with a `package-id` qualifier
 * when one purl occurs more than once (syft's convention). A matched scan adds its findings as
 * `vulnerabilities`. Never throws on package or finding content.
 */
export function toCycloneDx(input: ReportInput, options: CycloneDxOptions = {}): string {
  const scan = asVulnerabilityResult(input);
  const bom = new Models.Bom({ serialNumber: options.serialNumber ?? `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = options.timestamp ?? new Date();
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, REPORT_TOOL.name, { version: REPORT_TOOL.version }),
  );
  const root = artifactComponent(scan);
  bom.metadata.component = root;
  bom.metadata.properties.add(new Models.Property('vigil:scan:status', scan.status));
  bom.metadata.properties.add(new Models.Property('vigil:scan:unknowns', String(scan.unknowns.length)));
  if (scan.db) {
    bom.metadata.properties.add(new Models.Property('vigil:db:version', scan.db.version));
    bom.metadata.properties.add(new Models.Property('vigil:db:builtAt', scan.db.builtAt));
  }
  for (const w of scan.warnings)
    bom.metadata.properties.add(new Models.Property('vigil:warning', `${w.code}: ${w.message}`));

  let osComponent: Models.Component | undefined;
  if (scan.os) {
    osComponent = new Models.Component(Enums.ComponentType.OperatingSystem, scan.os.family, {
      bomRef: `vigil:os:${scan.os.family}@${scan.os.version}`,
      version: scan.os.version,
    });
    if (scan.os.prettyName) osComponent.description = scan.os.prettyName;
    bom.components.add(osComponent);
    root.dependencies.add(osComponent.bomRef);
  }

  const packages = resolvePackages(scan);
  const refs = uniqueIds(
    packages.map(({ pkg, purl }) => ({
      pkg,
      base: purl || `vigil:package:${pkg.ecosystem}/${pkg.name}@${pkg.version}`,
    })),
    (base, id) =>
      base.startsWith('pkg:') ? `${base}${base.includes('?') ? '&' : '?'}package-id=${id}` : `${base}#${id}`,
  );
  const refByPackage = new Map<string, Models.BomRef>();
  packages.forEach(({ pkg, purl }, i) => {
    const c = new Models.Component(Enums.ComponentType.Library, pkg.name, {
      bomRef: refs[i]!,
      version: pkg.version,
    });
    if (purl) c.purl = purl;
    for (const l of licensesOf(pkg)) c.licenses.add(l);
    for (const p of [
      ...prop('vigil:foundBy', pkg.foundBy),
      ...prop('vigil:layer', pkg.layer),
      ...prop('vigil:path', pkg.path),
      ...prop('vigil:srcName', pkg.srcName),
      ...prop('vigil:srcVersion', pkg.srcVersion),
    ]) {
      c.properties.add(p);
    }
    bom.components.add(c);
    const parent = osComponent && OS_ECOSYSTEMS.has(pkg.ecosystem) ? osComponent : root;
    parent.dependencies.add(c.bomRef);
    if (!refByPackage.has(packageId(pkg))) refByPackage.set(packageId(pkg), c.bomRef);
  });
  for (const v of cycloneDxVulnerabilities(scan.findings, refByPackage)) bom.vulnerabilities.add(v);

  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: false, space: 2 });
}
