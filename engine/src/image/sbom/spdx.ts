/**
 * SPDX 2.x JSON SBOMs (https://spdx.github.io/spdx-spec/v2.3/; 2.2 documents read the same way)
 * → SBOM entries.
 *
 * - The described package (`documentDescribes`, or a `DESCRIBES` relationship from the document;
 *   trivy once wrote `DESCRIBE`) is the scanned artifact, never a package; its digest is the
 *   version of its `pkg:oci` purl.
 * - The OS is the package whose `primaryPackagePurpose` is `OPERATING-SYSTEM` (the spec's
 *   spelling; the 2.3 JSON schema and Vigil write `OPERATING_SYSTEM`), or whose id starts with
 *   `SPDXRef-OperatingSystem` (trivy before purposes existed).
 * - A package is an entry when an `externalRefs` entry of category `PACKAGE-MANAGER`
 *   (`PACKAGE_MANAGER` in 2.2 JSON) and type `purl` names it. Packages without one are counted,
 *   except structural ones (the artifact, the OS, applications, containers, files, sources).
 * - Licenses: `licenseDeclared`, else `licenseConcluded`, unless NOASSERTION/NONE.
 * - Details: Vigil annotations `vigil:<key>=<value>`; trivy `Key: Value` annotations and
 *   attributionTexts (`SrcName`, `SrcVersion`, `SrcRelease`, `SrcEpoch`, `FilePath`, `LayerDiffID`).
 */
import type { OsRelease } from '../../model/os.js';
import type { ScannedArtifact } from '../../model/scan.js';
import type { Unknown } from '../../model/unknown.js';
import type { EntryDetails, SbomEntry } from './entries.js';
import { isObject, sbomInvalid, str, type Json } from './json.js';
import { familyOf, ociDigest } from './purl-package.js';

export interface SpdxContent {
  artifact: Partial<ScannedArtifact>;
  os?: OsRelease;
  entries: SbomEntry[];
  unknowns: Unknown[];
}

const OS_PURPOSES: ReadonlySet<string> = new Set(['OPERATING-SYSTEM', 'OPERATING_SYSTEM']);
const STRUCTURAL_PURPOSES: ReadonlySet<string> = new Set([
  'APPLICATION',
  'CONTAINER',
  'FILE',
  'SOURCE',
  'DEVICE',
  'FIRMWARE',
]);
const PACKAGE_MANAGER: ReadonlySet<string> = new Set(['PACKAGE-MANAGER', 'PACKAGE_MANAGER']);
const NO_LICENSE: ReadonlySet<string> = new Set(['NOASSERTION', 'NONE']);

/** `key → values` from Vigil (`vigil:k=v`) and trivy (`K: v`) notes. */
function notes(p: Json): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (k: string, v: string) => {
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  };
  const texts: string[] = [];
  if (Array.isArray(p.annotations)) {
    for (const a of p.annotations) if (isObject(a) && typeof a.comment === 'string') texts.push(a.comment);
  }
  if (Array.isArray(p.attributionTexts)) {
    for (const t of p.attributionTexts) if (typeof t === 'string') texts.push(t);
  }
  for (const t of texts) {
    const vigil = /^vigil:([A-Za-z]+)=(.+)$/s.exec(t);
    if (vigil) {
      add(`vigil:${vigil[1]}`, vigil[2]!);
      continue;
    }
    const trivy = /^([A-Za-z]+): (.+)$/s.exec(t);
    if (trivy) add(trivy[1]!, trivy[2]!.trim());
  }
  return out;
}

function details(n: Map<string, string[]>): EntryDetails {
  const one = (...keys: string[]) => keys.map((k) => n.get(k)?.[0]).find((v) => v);
  const d: EntryDetails = {};
  const set = <K extends keyof EntryDetails>(k: K, v: string | undefined) => {
    if (v) d[k] = v;
  };
  set('foundBy', one('vigil:foundBy'));
  set('layer', one('vigil:layer', 'LayerDiffID'));
  set('path', one('vigil:path', 'FilePath'));
  if (one('vigil:srcName')) {
    set('srcName', one('vigil:srcName'));
    set('srcVersion', one('vigil:srcVersion'));
  } else if (one('SrcName')) {
    set('srcName', one('SrcName'));
    const [v, rel, epoch] = [one('SrcVersion'), one('SrcRelease'), one('SrcEpoch')];
    if (v) set('srcVersion', `${epoch && epoch !== '0' ? `${epoch}:` : ''}${v}${rel ? `-${rel}` : ''}`);
  }
  return d;
}

function purlOf(p: Json): string | undefined {
  if (!Array.isArray(p.externalRefs)) return undefined;
  for (const r of p.externalRefs) {
    if (!isObject(r) || r.referenceType !== 'purl') continue;
    if (typeof r.referenceCategory === 'string' && PACKAGE_MANAGER.has(r.referenceCategory)) {
      const loc = str(r.referenceLocator);
      if (loc) return loc;
    }
  }
  return undefined;
}

function describedIds(doc: Json): Set<string> {
  const ids = new Set<string>();
  if (Array.isArray(doc.documentDescribes)) {
    for (const d of doc.documentDescribes) if (typeof d === 'string') ids.add(d);
  }
  const docId = str(doc.SPDXID) ?? 'SPDXRef-DOCUMENT';
  if (Array.isArray(doc.relationships)) {
    for (const r of doc.relationships) {
      if (!isObject(r)) continue;
      const type = r.relationshipType;
      if ((type === 'DESCRIBES' || type === 'DESCRIBE') && r.spdxElementId === docId) {
        const t = str(r.relatedSpdxElement);
        if (t) ids.add(t);
      } else if (type === 'DESCRIBED_BY' && r.relatedSpdxElement === docId) {
        const t = str(r.spdxElementId);
        if (t) ids.add(t);
      }
    }
  }
  return ids;
}

function artifactOf(doc: Json, root: Json | undefined): Partial<ScannedArtifact> {
  const a: Partial<ScannedArtifact> = {};
  const name = str(root?.name) ?? str(doc.name);
  if (name) a.name = name;
  // versionInfo is no evidence: Vigil writes the config digest there when there is no manifest digest
  const digest = root ? ociDigest(purlOf(root)) : undefined;
  if (digest) a.digest = digest;
  const n = root ? notes(root) : new Map<string, string[]>();
  const config = n.get('ImageID')?.[0];
  if (config) a.configDigest = config;
  if (n.get('RepoTag')) a.repoTags = n.get('RepoTag')!;
  if (n.get('RepoDigest')) a.repoDigests = n.get('RepoDigest')!;
  return a;
}

/**
 * Reads a parsed SPDX 2.x document. Per-package problems become unknowns.
 *
 * @throws EngineError ENG_SBOM_INVALID when `packages` is present but not a list.
 */
export function readSpdx(doc: Json, source: string): SpdxContent {
  if (doc.packages !== undefined && doc.packages !== null && !Array.isArray(doc.packages)) {
    throw sbomInvalid(`${source}: packages is not a list`);
  }
  const packages: unknown[] = Array.isArray(doc.packages) ? doc.packages : [];
  const described = describedIds(doc);
  const entries: SbomEntry[] = [];
  const unknowns: Unknown[] = [];
  let root: Json | undefined;
  let os: OsRelease | undefined;

  packages.forEach((p, i) => {
    const where = `packages[${i}]`;
    if (!isObject(p)) {
      unknowns.push({ path: source, message: `${where}: not an object`, source: 'sbom/spdx' });
      return;
    }
    const id = str(p.SPDXID) ?? '';
    const purpose = str(p.primaryPackagePurpose) ?? '';
    if (described.has(id)) {
      root ??= p;
      return;
    }
    if (OS_PURPOSES.has(purpose) || id.startsWith('SPDXRef-OperatingSystem')) {
      const family = str(p.name);
      if (family && !os) {
        os = { family: familyOf(family), version: str(p.versionInfo) ?? '' };
        const pretty = str(p.description);
        if (pretty) os.prettyName = pretty;
      }
      return;
    }
    const purl = purlOf(p);
    if (!purl && (STRUCTURAL_PURPOSES.has(purpose) || /^SPDXRef-(Application|ContainerImage)/.test(id)))
      return;
    const e: SbomEntry = { where, details: details(notes(p)) };
    if (id) e.ref = id;
    if (purl) e.purl = purl;
    const name = str(p.name);
    if (name) e.name = name;
    const version = str(p.versionInfo);
    if (version) e.version = version;
    const license = [str(p.licenseDeclared), str(p.licenseConcluded)].find((l) => l && !NO_LICENSE.has(l));
    if (license) e.licenses = [license];
    entries.push(e);
  });

  const out: SpdxContent = { artifact: artifactOf(doc, root), entries, unknowns };
  if (os) out.os = os;
  return out;
}
