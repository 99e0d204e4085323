/**
 * CycloneDX JSON SBOMs (https://cyclonedx.org/docs/1.6/json/; 1.4–1.6 and older 1.x read the
 * same way) → SBOM entries.
 *
 * - `metadata.component` is the scanned artifact (never a package). Its digest: the version of its
 *   `pkg:oci` purl, else its version when that has a digest's shape and is not the config digest
 *   (`vigil:image:configDigest`, trivy's `ImageID`).
 * - `components[]`, with nested `components[]` (assemblies), walked iteratively: library-like
 *   components with a `purl` are packages; `operating-system` components give the OS (syft's
 *   `syft:distro:*` properties preferred over name/version, Vigil's and trivy's name/version).
 *   `file`, `application`, `container`… components without a purl are structure, not packages.
 * - Properties read (most trusted first): Vigil `vigil:{foundBy,layer,path,srcName,srcVersion}`,
 *   trivy `aquasecurity:trivy:{FilePath,LayerDiffID,SrcName,SrcVersion,SrcRelease,SrcEpoch}`,
 *   syft `syft:location:0:{path,layerID}` and `syft:metadata:{originPackage,source,
 *   sourceVersion,sourceRpm}`.
 */
import type { OsRelease } from '../../model/os.js';
import type { ScannedArtifact } from '../../model/scan.js';
import type { Unknown } from '../../model/unknown.js';
import type { EntryDetails, SbomEntry } from './entries.js';
import { familyOf, ociDigest, parseUpstream } from './purl-package.js';
import { sbomInvalid, type Json, isObject, str } from './json.js';

export interface CycloneDxContent {
  artifact: Partial<ScannedArtifact>;
  os?: OsRelease;
  entries: SbomEntry[];
  unknowns: Unknown[];
}

/** Component types that are packages even without saying so. */
const PACKAGE_TYPES: ReadonlySet<string> = new Set(['library', 'framework', '']);
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

function properties(c: Json): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!Array.isArray(c.properties)) return out;
  for (const p of c.properties) {
    if (!isObject(p)) continue;
    const name = str(p.name);
    const value = str(p.value);
    if (!name || value === undefined) continue;
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  }
  return out;
}

function details(props: Map<string, string[]>): EntryDetails {
  const one = (...names: string[]) => {
    for (const n of names) {
      const v = props.get(n)?.[0];
      if (v) return v;
    }
    return undefined;
  };
  const d: EntryDetails = {};
  const set = <K extends keyof EntryDetails>(k: K, v: string | undefined) => {
    if (v) d[k] = v;
  };
  set('foundBy', one('vigil:foundBy'));
  set('layer', one('vigil:layer', 'aquasecurity:trivy:LayerDiffID', 'syft:location:0:layerID'));
  set('path', one('vigil:path', 'aquasecurity:trivy:FilePath', 'syft:location:0:path'));
  const vigilSrc = one('vigil:srcName');
  const trivySrc = one('aquasecurity:trivy:SrcName');
  if (vigilSrc) {
    set('srcName', vigilSrc);
    set('srcVersion', one('vigil:srcVersion'));
  } else if (trivySrc) {
    set('srcName', trivySrc);
    const v = one('aquasecurity:trivy:SrcVersion');
    const rel = one('aquasecurity:trivy:SrcRelease');
    const epoch = one('aquasecurity:trivy:SrcEpoch');
    if (v) set('srcVersion', `${epoch && epoch !== '0' ? `${epoch}:` : ''}${v}${rel ? `-${rel}` : ''}`);
  } else {
    const rpm = parseUpstream(one('syft:metadata:sourceRpm'));
    set('srcName', one('syft:metadata:originPackage', 'syft:metadata:source') ?? rpm.srcName);
    set('srcVersion', one('syft:metadata:sourceVersion') ?? rpm.srcVersion);
  }
  return d;
}

function licenses(c: Json): string[] | undefined {
  if (!Array.isArray(c.licenses)) return undefined;
  const out: string[] = [];
  for (const l of c.licenses) {
    if (!isObject(l)) continue;
    const v =
      str(l.expression) ?? (isObject(l.license) ? (str(l.license.id) ?? str(l.license.name)) : undefined);
    if (v && !out.includes(v)) out.push(v);
  }
  return out.length ? out : undefined;
}

function declaredName(c: Json, purl: string | undefined): string | undefined {
  const name = str(c.name);
  const group = str(c.group);
  if (!name || !group) return name;
  return `${group}${purl?.startsWith('pkg:maven/') ? ':' : '/'}${name}`;
}

function entryOf(c: Json, where: string, purl: string | undefined, props: Map<string, string[]>): SbomEntry {
  const e: SbomEntry = { where, details: details(props) };
  const ref = str(c['bom-ref']);
  if (ref) e.ref = ref;
  if (purl) e.purl = purl;
  const name = declaredName(c, purl);
  if (name) e.name = name;
  const version = str(c.version);
  if (version) e.version = version;
  const lic = licenses(c);
  if (lic) e.licenses = lic;
  return e;
}

function osOf(c: Json, props: Map<string, string[]>): OsRelease | undefined {
  const id = props.get('syft:distro:id')?.[0] ?? str(c.name);
  if (!id) return undefined;
  const os: OsRelease = {
    family: familyOf(id),
    version: str(c.version) ?? props.get('syft:distro:versionID')?.[0] ?? '',
  };
  const pretty = str(c.description) ?? props.get('syft:distro:prettyName')?.[0];
  if (pretty) os.prettyName = pretty;
  return os;
}

function artifactOf(root: unknown): Partial<ScannedArtifact> {
  if (!isObject(root)) return {};
  const props = properties(root);
  const a: Partial<ScannedArtifact> = {};
  const name = declaredName(root, undefined);
  if (name) a.name = name;
  const config = props.get('vigil:image:configDigest')?.[0] ?? props.get('aquasecurity:trivy:ImageID')?.[0];
  if (config) a.configDigest = config;
  const version = str(root.version);
  const digest =
    ociDigest(str(root.purl)) ??
    (version && DIGEST_RE.test(version) && version !== config ? version : undefined);
  if (digest) a.digest = digest;
  const tags = [
    ...(props.get('vigil:image:repoTag') ?? []),
    ...(props.get('aquasecurity:trivy:RepoTag') ?? []),
  ];
  if (tags.length) a.repoTags = [...new Set(tags)];
  const digests = [
    ...(props.get('vigil:image:repoDigest') ?? []),
    ...(props.get('aquasecurity:trivy:RepoDigest') ?? []),
  ];
  if (digests.length) a.repoDigests = [...new Set(digests)];
  return a;
}

/**
 * Reads a parsed CycloneDX BOM. Per-component problems become unknowns (`source` names the file).
 *
 * @throws EngineError ENG_SBOM_INVALID when `components` (at any level) is present but not a list.
 */
export function readCycloneDx(doc: Json, source: string): CycloneDxContent {
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const artifact = artifactOf(metadata.component);
  const entries: SbomEntry[] = [];
  const unknowns: Unknown[] = [];
  const oses: OsRelease[] = [];

  // pre-order walk of components and nested components, without recursion
  const frames: { list: unknown[]; where: string; i: number }[] = [];
  const enter = (list: unknown, where: string) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) throw sbomInvalid(`${source}: ${where} is not a list`);
    frames.push({ list, where, i: 0 });
  };
  if (isObject(metadata.component)) enter(metadata.component.components, 'metadata.component.components');
  enter(doc.components, 'components');
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    if (f.i >= f.list.length) {
      frames.pop();
      continue;
    }
    const at = `${f.where}[${f.i}]`;
    const c: unknown = f.list[f.i++];
    if (!isObject(c)) {
      unknowns.push({ path: source, message: `${at}: not an object`, source: 'sbom/cyclonedx' });
      continue;
    }
    const type = str(c.type) ?? '';
    const props = properties(c);
    if (type === 'operating-system') {
      const os = osOf(c, props);
      if (os) oses.push(os);
    } else {
      const purl = str(c.purl);
      if (purl || PACKAGE_TYPES.has(type)) entries.push(entryOf(c, at, purl, props));
    }
    enter(c.components, `${at}.components`);
  }
  const out: CycloneDxContent = { artifact, entries, unknowns };
  if (oses[0]) out.os = oses[0];
  if (oses.length > 1) {
    unknowns.push({
      path: source,
      message: `${oses.length} operating-system components; using ${oses[0]!.family} ${oses[0]!.version}`,
      source: 'sbom/cyclonedx',
    });
  }
  return out;
}
