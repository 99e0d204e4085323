/**
 * Engine model → wire messages (vigil/v1 model.proto), one direction only: the worker sends what the
 * engine found and never reads engine types back from the wire. Every engine field has its proto
 * field; optional engine fields stay unset rather than becoming empty strings, enums go through
 * one table each (a new engine value without a row is a type error).
 */
import { create } from '@bufbuild/protobuf';
import type {
  ArtifactKind as EngineArtifactKind,
  Finding as EngineFinding,
  FixState as EngineFixState,
  MatchWarning as EngineMatchWarning,
  OsRelease as EngineOsRelease,
  Package as EnginePackage,
  ScannedArtifact,
  Severity as EngineSeverity,
  Unknown as EngineUnknown,
} from '@vigil/engine/core';
import {
  ArtifactKind,
  ArtifactSchema,
  DataSourceSchema,
  FindingCvssSchema,
  FindingSchema,
  FixState,
  KevEntrySchema,
  LayerSchema,
  MatchWarningSchema,
  OsReleaseSchema,
  PackageSchema,
  Severity,
  SeverityCountsSchema,
  UnknownSchema,
  VendorSeveritySchema,
  type Artifact,
  type Finding,
  type MatchWarning,
  type OsRelease,
  type Package,
  type SeverityCounts,
  type Unknown,
} from '@vigil/proto/v1/model_pb';

const SEVERITY = {
  CRITICAL: Severity.CRITICAL,
  HIGH: Severity.HIGH,
  MEDIUM: Severity.MEDIUM,
  LOW: Severity.LOW,
  UNKNOWN: Severity.UNKNOWN,
} as const satisfies Record<EngineSeverity, Severity>;

const FIX_STATE = {
  fixed: FixState.FIXED,
  unfixed: FixState.UNFIXED,
  'will-not-fix': FixState.WILL_NOT_FIX,
  deferred: FixState.DEFERRED,
  'not-affected': FixState.NOT_AFFECTED,
} as const satisfies Record<EngineFixState, FixState>;

const ARTIFACT_KIND = {
  registry: ArtifactKind.REGISTRY,
  'docker-archive': ArtifactKind.DOCKER_ARCHIVE,
  'oci-layout': ArtifactKind.OCI_LAYOUT,
  rootfs: ArtifactKind.ROOTFS,
  sbom: ArtifactKind.SBOM,
} as const satisfies Record<EngineArtifactKind, ArtifactKind>;

const COUNT_FIELD = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MEDIUM: 'medium',
  LOW: 'low',
  UNKNOWN: 'unknown',
} as const satisfies Record<EngineSeverity, keyof SeverityCounts>;

/** The wire severity of an engine severity. */
export function toProtoSeverity(severity: EngineSeverity): Severity {
  return SEVERITY[severity];
}

/** The wire fix state of an engine fix state. */
export function toProtoFixState(state: EngineFixState): FixState {
  return FIX_STATE[state];
}

/** The scanned OS release. */
export function toProtoOs(os: EngineOsRelease): OsRelease {
  return create(OsReleaseSchema, {
    family: os.family,
    version: os.version,
    name: os.name,
    prettyName: os.prettyName,
    codename: os.codename,
    idLike: os.idLike ?? [],
    distroless: os.distroless,
    source: os.source,
  });
}

/** One package; metadata becomes a Struct (the engine keeps it to plain JSON scalars). */
export function toProtoPackage(pkg: EnginePackage): Package {
  return create(PackageSchema, {
    name: pkg.name,
    version: pkg.version,
    ecosystem: pkg.ecosystem,
    purl: pkg.purl,
    srcName: pkg.srcName,
    srcVersion: pkg.srcVersion,
    arch: pkg.arch,
    licenses: pkg.licenses ?? [],
    layer: pkg.layer,
    path: pkg.path,
    foundBy: pkg.foundBy,
    declared: pkg.declared,
    dev: pkg.dev,
    metadata: pkg.metadata,
  });
}

/** One per-file problem of the scan. */
export function toProtoUnknown(unknown: EngineUnknown): Unknown {
  return create(UnknownSchema, {
    path: unknown.path,
    message: unknown.message,
    layer: unknown.layer,
    source: unknown.source,
  });
}

/** What was scanned; layer sizes are 64-bit on the wire (bigint). */
export function toProtoArtifact(artifact: ScannedArtifact): Artifact {
  return create(ArtifactSchema, {
    name: artifact.name,
    kind: ARTIFACT_KIND[artifact.kind],
    digest: artifact.digest,
    repoTags: artifact.repoTags ?? [],
    repoDigests: artifact.repoDigests ?? [],
    configDigest: artifact.configDigest,
    layers: (artifact.layers ?? []).map((l) =>
      create(LayerSchema, {
        diffId: l.diffId,
        digest: l.digest,
        size: l.size === undefined ? undefined : BigInt(l.size),
      }),
    ),
  });
}

/** One finding: the package as in the inventory, scores and sources as the matcher built them. */
export function toProtoFinding(finding: EngineFinding): Finding {
  const { cvss, vendorSeverity: vendor, kevEntry: kev } = finding;
  return create(FindingSchema, {
    id: finding.id,
    aliases: finding.aliases,
    package: toProtoPackage(finding.package),
    installedVersion: finding.installedVersion,
    fixedVersion: finding.fixedVersion ?? undefined,
    status: toProtoFixState(finding.status),
    severity: toProtoSeverity(finding.severity),
    severitySource: finding.severitySource,
    cvss: cvss
      ? create(FindingCvssSchema, {
          version: cvss.version,
          vector: cvss.vector,
          score: cvss.score,
          source: cvss.source,
        })
      : undefined,
    vendorSeverity: vendor
      ? create(VendorSeveritySchema, {
          source: vendor.source,
          rating: vendor.rating,
          severity: toProtoSeverity(vendor.severity),
        })
      : undefined,
    kev: finding.kev,
    kevEntry: kev
      ? create(KevEntrySchema, {
          cveId: kev.cveId,
          dateAdded: kev.dateAdded,
          dueDate: kev.dueDate,
          knownRansomwareCampaignUse: kev.knownRansomwareCampaignUse,
          vendorProject: kev.vendorProject,
          product: kev.product,
          name: kev.name,
        })
      : undefined,
    epss: finding.epss ?? undefined,
    epssPercentile: finding.epssPercentile ?? undefined,
    title: finding.title,
    description: finding.description,
    references: finding.references,
    cwes: finding.cwes,
    published: finding.published,
    dataSources: finding.dataSources.map((d) =>
      create(DataSourceSchema, { source: d.source, namespace: d.namespace, advisoryId: d.advisoryId }),
    ),
  });
}

/** A non-fatal matching condition (unsupported or end-of-life release…). */
export function toProtoWarning(warning: EngineMatchWarning): MatchWarning {
  return create(MatchWarningSchema, { code: warning.code, message: warning.message });
}

/** Finding counts per severity and in total. */
export function toSeverityCounts(findings: readonly { severity: EngineSeverity }[]): SeverityCounts {
  const counts = create(SeverityCountsSchema, { total: findings.length });
  for (const f of findings) counts[COUNT_FIELD[f.severity]]++;
  return counts;
}
