/**
 * Walks one Java archive (and the archives nested in it) and derives its Maven packages:
 * 1. every `pom.properties` with groupId, artifactId and version is a package (shaded and fat
 *    jars carry one per embedded artifact);
 * 2. unless one of those is the archive itself (artifactId and version of its file name), the
 *    archive's own artifact comes from MANIFEST.MF, else from its file name — then with no
 *    groupId, so the name is the bare artifactId (trivy instead asks Maven Central for the
 *    groupId and, offline, reports nothing; we keep the package so the inventory is complete,
 *    though it cannot match `groupId:artifactId` advisories); it is dropped when a pom.properties
 *    package has the same artifactId (case-insensitively) and version;
 * 3. nested `*.jar`, `*.war`, `*.ear` entries anywhere (WEB-INF/lib, BOOT-INF/lib, lib/...) are
 *    walked the same way, up to MAX_NESTING levels and an inflation budget; their packages carry
 *    `metadata.archivePath` (`app.war!/WEB-INF/lib/x.jar`).
 */
import { isEngineError, throwIfAborted } from '../../../errors.js';
import type { Package } from '../../../model/package.js';
import type { Unknown } from '../../../model/unknown.js';
import {
  fileNameCoordinates,
  manifestCoordinates,
  parseManifest,
  pomCoordinates,
  type Coordinates,
} from './metadata.js';
import { readZipDirectory, readZipEntry, storedEntryView, type ByteSource, type ZipEntry } from './zip.js';

/** Outer archive = level 0; `app.ear!/lib/x.war!/WEB-INF/lib/y.jar` is level 2. */
export const MAX_NESTING = 4;
/** Largest deflated nested archive inflated in memory (stored ones are read in place). */
export const MAX_NESTED_INFLATE = 128 << 20;
/** Total bytes inflated for nested archives of one outer file. */
export const MAX_TOTAL_INFLATE = 512 << 20;
/** Nested archives opened per outer file. */
export const MAX_NESTED_ARCHIVES = 10_000;
/** Central directory bytes listed per outer file (bounds work on crafted overlapping archives). */
export const MAX_TOTAL_DIRECTORY = 256 << 20;
const MAX_POM_PROPERTIES = 64 << 10;
const MAX_MANIFEST = 1 << 20;
const NESTED = /\.(?:jar|war|ear)$/i;

export interface WalkContext {
  foundBy: string;
  /** image-relative path of the outer file (unknowns are reported against it) */
  path: string;
  unknowns: Unknown[];
  /** bytes inflated for nested archives so far */
  inflated: number;
  /** central directory bytes listed so far */
  listed: number;
  /** nested archives opened so far */
  opened: number;
  signal?: AbortSignal;
}

const baseName = (name: string) => name.slice(name.lastIndexOf('/') + 1);

/**
 * Packages of one archive and its nested archives.
 * @param archivePath `undefined` for the outer file, else the `!/`-joined path of this archive
 * @throws ZipError when this archive's directory cannot be read (nested failures become unknowns)
 */
export async function walkArchive(
  src: ByteSource,
  fileName: string,
  archivePath: string | undefined,
  depth: number,
  ctx: WalkContext,
): Promise<Package[]> {
  const { entries, directoryBytes } = await readZipDirectory(src, MAX_TOTAL_DIRECTORY - ctx.listed);
  ctx.listed += directoryBytes;
  const where = archivePath ?? ctx.path;
  const problem = (message: string) => ctx.unknowns.push({ path: ctx.path, message, source: ctx.foundBy });
  const read = async (e: ZipEntry, max: number): Promise<string | undefined> => {
    try {
      return (await readZipEntry(src, e, max)).toString('utf8');
    } catch (error) {
      problem(`${where}: ${e.name}: ${(error as Error).message}`);
      return undefined;
    }
  };

  const poms: Required<Coordinates>[] = [];
  let manifest: string | undefined;
  const nested: ZipEntry[] = [];
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    const base = baseName(e.name);
    if (base === 'pom.properties') {
      const text = await read(e, MAX_POM_PROPERTIES);
      const c = text === undefined ? undefined : pomCoordinates(text);
      if (c) poms.push(c);
    } else if (e.name.toUpperCase() === 'META-INF/MANIFEST.MF') {
      manifest = await read(e, MAX_MANIFEST);
    } else if (NESTED.test(base) && depth + 1 < MAX_NESTING) {
      nested.push(e);
    }
  }

  const own: Coordinates[] = [...poms];
  const fromName = fileNameCoordinates(fileName);
  const isOwn = (c: Coordinates) => c.artifactId === fromName?.artifactId && c.version === fromName.version;
  if (!poms.some(isOwn)) {
    let self = manifest === undefined ? undefined : manifestCoordinates(parseManifest(manifest));
    if (!self?.groupId) self = fromName;
    else if (fromName && self.artifactId.toLowerCase() === fromName.artifactId.toLowerCase()) {
      // Implementation-Title is often the display-cased artifactId (Jackson-core)
      self = { ...self, artifactId: fromName.artifactId };
    }
    const same = (p: Coordinates) =>
      p.version === self?.version && p.artifactId.toLowerCase() === self.artifactId.toLowerCase();
    if (self && !poms.some(same)) own.push(self);
  }
  const packages = own.map((c): Package => {
    const p: Package = {
      name: c.groupId ? `${c.groupId}:${c.artifactId}` : c.artifactId,
      version: c.version,
      ecosystem: 'maven',
      foundBy: ctx.foundBy,
    };
    if (archivePath) p.metadata = { archivePath };
    return p;
  });

  for (const e of nested) {
    throwIfAborted(ctx.signal);
    const childPath = `${where}!/${e.name}`;
    if (++ctx.opened > MAX_NESTED_ARCHIVES) {
      problem(`${where}: more than ${MAX_NESTED_ARCHIVES} nested archives, the rest is not read`);
      break;
    }
    try {
      let child: ByteSource;
      if (e.method === 0) {
        child = await storedEntryView(src, e);
      } else {
        if (e.size > MAX_NESTED_INFLATE || ctx.inflated + e.size > MAX_TOTAL_INFLATE) {
          problem(`${childPath}: nested archive not read: inflation limit reached (${e.size} bytes)`);
          continue;
        }
        const buf = await readZipEntry(src, e, MAX_NESTED_INFLATE);
        ctx.inflated += buf.length;
        child = { size: buf.length, readAt: (o, l) => Promise.resolve(buf.subarray(o, o + Math.max(0, l))) };
      }
      packages.push(...(await walkArchive(child, baseName(e.name), childPath, depth + 1, ctx)));
    } catch (error) {
      if (isEngineError(error) && error.code === 'ENG_ABORTED') throw error;
      problem(`${childPath}: ${(error as Error).message}`);
    }
  }
  return packages;
}
