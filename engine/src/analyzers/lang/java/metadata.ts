/**
 * Java archive metadata → Maven coordinates: `META-INF/maven/<g>/<a>/pom.properties`,
 * the main section of `META-INF/MANIFEST.MF`, and the archive's file name.
 *
 * Formats:
 * - JAR manifest: https://docs.oracle.com/en/java/javase/21/docs/specs/jar/jar.html#jar-manifest
 *   (72-byte lines folded with a leading space; the main section ends at the first blank line;
 *   attribute names are case-insensitive).
 * - pom.properties is a java.util.Properties file written by maven-archiver
 *   (https://docs.oracle.com/javase/8/docs/api/java/util/Properties.html#load-java.io.Reader-).
 */

export interface Coordinates {
  groupId?: string;
  artifactId: string;
  version: string;
}

/** Parses a properties file (key=value, key: value or key value; # and ! comments). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** groupId, artifactId and version of a pom.properties; `undefined` unless all three are set. */
export function pomCoordinates(text: string): Required<Coordinates> | undefined {
  const p = parseProperties(text);
  const groupId = p.get('groupId');
  const artifactId = p.get('artifactId');
  const version = p.get('version');
  if (!groupId || !artifactId || !version || version.includes('${')) return undefined;
  return { groupId, artifactId, version };
}

/** The main section of a manifest as lower-cased attribute name → value. */
export function parseManifest(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  let current = '';
  const flush = () => {
    const colon = current.indexOf(':');
    if (colon > 0) {
      const key = current.slice(0, colon).trim().toLowerCase();
      if (!attrs.has(key)) attrs.set(key, current.slice(colon + 1).trim());
    }
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') break;
    if (line.startsWith(' ')) {
      current += line.slice(1);
      continue;
    }
    flush();
    current = line;
  }
  flush();
  return attrs;
}

/** A usable identifier: no whitespace and not a `%placeholder` of a localised manifest. */
const usable = (v: string | undefined): v is string => !!v && !/\s/.test(v) && !v.startsWith('%');

function first(
  attrs: Map<string, string>,
  keys: string[],
  ok: (v: string) => boolean = usable,
): string | undefined {
  for (const k of keys) {
    const v = attrs.get(k);
    if (v !== undefined && ok(v)) return v;
  }
  return undefined;
}

/** `com.fasterxml.jackson.core.jackson-core;singleton:=true` → `com.fasterxml.jackson.core` */
function bundleGroup(attrs: Map<string, string>): string | undefined {
  const name = attrs.get('bundle-symbolicname')?.split(';')[0]?.trim();
  const dot = name?.lastIndexOf('.') ?? -1;
  return name && dot > 0 && usable(name) ? name.slice(0, dot) : undefined;
}

/**
 * Maven coordinates from a manifest main section, with trivy's field order
 * (pkg/dependency/parser/java/jar): groupId from Implementation-Vendor-Id, Bundle-SymbolicName
 * without its last segment, Implementation-Vendor, Specification-Vendor; artifactId from
 * Implementation-Title, Specification-Title, Bundle-Name; version from Implementation-Version,
 * Specification-Version, Bundle-Version. Departures: values with whitespace are skipped (trivy
 * checks its guesses online against Maven Central, we cannot), vendors only count when dotted
 * like a groupId (`FasterXML`, `New Relic` do not), and Jenkins plugins use Group-Id,
 * Short-Name and Plugin-Version. Without groupId only artifactId and version are returned.
 */
export function manifestCoordinates(attrs: Map<string, string>): Coordinates | undefined {
  const shortName = attrs.get('short-name');
  const pluginVersion = attrs.get('plugin-version');
  if (usable(shortName) && usable(pluginVersion)) {
    const groupId = first(attrs, ['group-id']);
    return groupId
      ? { groupId, artifactId: shortName, version: pluginVersion }
      : { artifactId: shortName, version: pluginVersion };
  }
  const dotted = (v: string) => usable(v) && v.includes('.');
  const groupId =
    first(attrs, ['implementation-vendor-id']) ??
    bundleGroup(attrs) ??
    first(attrs, ['implementation-vendor', 'specification-vendor'], dotted);
  const artifactId = first(attrs, ['implementation-title', 'specification-title', 'bundle-name']);
  const version = first(attrs, ['implementation-version', 'specification-version', 'bundle-version']);
  if (!artifactId || !version) return undefined;
  return groupId ? { groupId, artifactId, version } : { artifactId, version };
}

const FILE_NAME = /^([A-Za-z0-9._-]*[^-*/])-(\d\S*)\.(?:jar|war|ear|par|sar|jpi|hpi|nar)$/i;

/** `spring-core-5.3.4-SNAPSHOT.jar` → artifactId `spring-core`, version `5.3.4-SNAPSHOT` (trivy's pattern). */
export function fileNameCoordinates(fileName: string): Coordinates | undefined {
  const m = FILE_NAME.exec(fileName);
  return m ? { artifactId: m[1]!, version: m[2]! } : undefined;
}
