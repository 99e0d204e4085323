/**
 * Wire → engine mapping of worker reports (proto/vigil/v1/model.proto → engine/src/model), in this direction
 * only: the control plane receives packages, findings and OS releases from workers and stores engine types.
 * Every value is checked on the way in; a bad one is CP_INVALID_ARGUMENT naming its place, never a crash.
 */
import {
  ECOSYSTEMS,
  type CvssVersion,
  type Ecosystem,
  type Finding,
  type FixState,
  type OsRelease,
  type Package,
  type Severity,
} from '@vigil/engine/core';
import {
  FixState as WireFixState,
  Severity as WireSeverity,
  type Finding as WireFinding,
  type OsRelease as WireOsRelease,
  type Package as WirePackage,
} from '@vigil/proto/v1/model_pb';
import { ScanStatus as WireScanStatus } from '@vigil/proto/v1/scan_pb';
import { ControlPlaneError } from '../errors.js';
import type { ScanStatus } from '../services/types.js';

function invalid(where: string, problem: string): ControlPlaneError {
  return new ControlPlaneError('CP_INVALID_ARGUMENT', `${where}: ${problem}`);
}

const SEVERITY: Record<number, Severity> = {
  [WireSeverity.CRITICAL]: 'CRITICAL',
  [WireSeverity.HIGH]: 'HIGH',
  [WireSeverity.MEDIUM]: 'MEDIUM',
  [WireSeverity.LOW]: 'LOW',
  [WireSeverity.UNKNOWN]: 'UNKNOWN',
};

const FIX_STATE: Record<number, FixState> = {
  [WireFixState.FIXED]: 'fixed',
  [WireFixState.UNFIXED]: 'unfixed',
  [WireFixState.WILL_NOT_FIX]: 'will-not-fix',
  [WireFixState.DEFERRED]: 'deferred',
  [WireFixState.NOT_AFFECTED]: 'not-affected',
};

const CVSS_VERSIONS: readonly string[] = ['2.0', '3.0', '3.1', '4.0'];

const STATUS: Record<ScanStatus, WireScanStatus> = {
  queued: WireScanStatus.QUEUED,
  running: WireScanStatus.RUNNING,
  completed: WireScanStatus.COMPLETED,
  failed: WireScanStatus.FAILED,
  cancelled: WireScanStatus.CANCELLED,
};

/** The wire status of a scan status (the one control-plane → wire value the worker service answers with). */
export function wireScanStatus(status: ScanStatus): WireScanStatus {
  return STATUS[status];
}

/** A wire severity; UNSPECIFIED and unknown numbers are invalid. */
export function severityFromWire(value: WireSeverity, where: string): Severity {
  const severity = SEVERITY[value];
  if (!severity) throw invalid(where, `severity ${value} is not a severity`);
  return severity;
}

/** The engine OS release of a wire one (null for an absent message or an empty family). */
export function osFromWire(os: WireOsRelease | undefined): OsRelease | null {
  if (!os || os.family === '') return null;
  return {
    family: os.family,
    version: os.version,
    ...(os.name !== undefined ? { name: os.name } : {}),
    ...(os.prettyName !== undefined ? { prettyName: os.prettyName } : {}),
    ...(os.codename !== undefined ? { codename: os.codename } : {}),
    ...(os.idLike.length > 0 ? { idLike: [...os.idLike] } : {}),
    ...(os.distroless !== undefined ? { distroless: os.distroless } : {}),
    ...(os.source !== undefined ? { source: os.source } : {}),
  };
}

function metadataFromWire(value: WirePackage['metadata'], where: string): Package['metadata'] | undefined {
  if (value === undefined) return undefined;
  const metadata: NonNullable<Package['metadata']> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object')
      throw invalid(`${where}.metadata.${key}`, 'must be a string, number, boolean or null');
    metadata[key] = v;
  }
  return metadata;
}

/** The engine package of a wire one. */
export function packageFromWire(p: WirePackage | undefined, where: string): Package {
  if (!p) throw invalid(where, 'package is missing');
  if (p.name === '') throw invalid(`${where}.name`, 'must not be empty');
  if (!(ECOSYSTEMS as readonly string[]).includes(p.ecosystem)) {
    throw invalid(
      `${where}.ecosystem`,
      `${JSON.stringify(p.ecosystem)} is not one of ${ECOSYSTEMS.join(', ')}`,
    );
  }
  const metadata = metadataFromWire(p.metadata, where);
  return {
    name: p.name,
    version: p.version,
    ecosystem: p.ecosystem as Ecosystem,
    ...(p.purl !== undefined ? { purl: p.purl } : {}),
    ...(p.srcName !== undefined ? { srcName: p.srcName } : {}),
    ...(p.srcVersion !== undefined ? { srcVersion: p.srcVersion } : {}),
    ...(p.arch !== undefined ? { arch: p.arch } : {}),
    ...(p.licenses.length > 0 ? { licenses: [...p.licenses] } : {}),
    ...(p.layer !== undefined ? { layer: p.layer } : {}),
    ...(p.path !== undefined ? { path: p.path } : {}),
    foundBy: p.foundBy,
    ...(p.declared !== undefined ? { declared: p.declared } : {}),
    ...(p.dev !== undefined ? { dev: p.dev } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}

function probability(value: number | undefined, where: string): number | null {
  if (value === undefined) return null;
  if (!(value >= 0 && value <= 1)) throw invalid(where, 'must be from 0 to 1');
  return value;
}

/** The engine finding of a wire one. */
export function findingFromWire(f: WireFinding, where: string): Finding {
  if (f.id === '') throw invalid(`${where}.id`, 'must not be empty');
  const status = FIX_STATE[f.status];
  if (!status) throw invalid(`${where}.status`, `${f.status} is not a fix state`);
  let cvss: Finding['cvss'] = null;
  if (f.cvss) {
    if (!CVSS_VERSIONS.includes(f.cvss.version))
      throw invalid(`${where}.cvss.version`, 'must be 2.0, 3.0, 3.1 or 4.0');
    if (!(f.cvss.score >= 0 && f.cvss.score <= 10))
      throw invalid(`${where}.cvss.score`, 'must be from 0 to 10');
    cvss = {
      version: f.cvss.version as CvssVersion,
      vector: f.cvss.vector,
      score: f.cvss.score,
      source: f.cvss.source,
    };
  }
  const v = f.vendorSeverity;
  const k = f.kevEntry;
  return {
    id: f.id,
    aliases: [...f.aliases],
    package: packageFromWire(f.package, `${where}.package`),
    installedVersion: f.installedVersion,
    fixedVersion: f.fixedVersion ?? null,
    status,
    severity: severityFromWire(f.severity, `${where}.severity`),
    severitySource: f.severitySource,
    cvss,
    ...(v
      ? {
          vendorSeverity: {
            source: v.source,
            rating: v.rating,
            severity: severityFromWire(v.severity, `${where}.vendorSeverity`),
          },
        }
      : {}),
    kev: f.kev,
    ...(k
      ? {
          kevEntry: {
            cveId: k.cveId,
            dateAdded: k.dateAdded,
            ...(k.dueDate !== undefined ? { dueDate: k.dueDate } : {}),
            ...(k.knownRansomwareCampaignUse !== undefined
              ? { knownRansomwareCampaignUse: k.knownRansomwareCampaignUse }
              : {}),
            ...(k.vendorProject !== undefined ? { vendorProject: k.vendorProject } : {}),
            ...(k.product !== undefined ? { product: k.product } : {}),
            ...(k.name !== undefined ? { name: k.name } : {}),
          },
        }
      : {}),
    epss: probability(f.epss, `${where}.epss`),
    epssPercentile: probability(f.epssPercentile, `${where}.epssPercentile`),
    ...(f.title !== undefined ? { title: f.title } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
    references: [...f.references],
    cwes: [...f.cwes],
    ...(f.published !== undefined ? { published: f.published } : {}),
    dataSources: f.dataSources.map((d) => ({
      source: d.source,
      namespace: d.namespace,
      advisoryId: d.advisoryId,
    })),
  };
}
