/**
 * Lenient package-url parsing and the purl matching rules VEX processors agree on.
 *
 * Parsing: packageurl-js (https://github.com/package-url/purl-spec) with its type normalisation
 * (npm lower-case, pypi `_`→`-`…). Its type validators reject purls real SBOMs and VEX documents
 * carry (a maven purl without a group; golang `v`-prefixed non-semver versions, where 2.0.1 even
 * throws a ReferenceError), so on a validation failure the raw components are normalised by hand.
 *
 * Matching (the community consensus of https://github.com/openvex/spec/issues/27, as trivy
 * documents it in docs/docs/supply-chain/vex/file.md "PURL matching"):
 * - type, namespace and name must be equal (after normalisation);
 * - a pattern without a version matches every version; with one, the versions must be equal;
 * - a pattern without qualifiers matches any qualifiers; each qualifier the pattern has must be
 *   present in the candidate with the same value (extra candidate qualifiers are ignored);
 * - a pattern subpath must equal the candidate's.
 */
import { PackageURL } from 'packageurl-js';

export interface ParsedPurl {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers: Record<string, string>;
  subpath?: string;
}

function fromComponents(p: {
  type?: unknown;
  namespace?: unknown;
  name?: unknown;
  version?: unknown;
  qualifiers?: unknown;
  subpath?: unknown;
}): ParsedPurl | undefined {
  if (typeof p.type !== 'string' || !p.type || typeof p.name !== 'string' || !p.name) return undefined;
  const out: ParsedPurl = { type: p.type.toLowerCase(), name: p.name, qualifiers: {} };
  if (typeof p.namespace === 'string' && p.namespace) out.namespace = p.namespace;
  if (typeof p.version === 'string' && p.version) out.version = p.version;
  if (typeof p.subpath === 'string' && p.subpath) out.subpath = p.subpath;
  if (p.qualifiers && typeof p.qualifiers === 'object') {
    for (const [k, v] of Object.entries(p.qualifiers as Record<string, unknown>)) {
      if (typeof v === 'string' && v !== '') out.qualifiers[k.toLowerCase()] = v;
    }
  }
  return out;
}

/**
 * Parses a purl string. Never throws: returns undefined for anything that is not a purl with at
 * least a type and a name. Qualifiers with empty values are dropped (the spec treats them as absent).
 */
export function parsePurl(text: string): ParsedPurl | undefined {
  if (typeof text !== 'string' || !text.startsWith('pkg:')) return undefined;
  try {
    return fromComponents(PackageURL.fromString(text));
  } catch {
    // fall through to the unvalidated components
  }
  try {
    const [type, namespace, name, version, qualifiers, subpath] = PackageURL.parseString(text);
    const raw = { type, namespace, name, version, qualifiers, subpath } as Record<string, unknown>;
    if (typeof type === 'string') {
      try {
        PackageURL.Type[type as keyof typeof PackageURL.Type]?.normalize(raw as unknown as PackageURL);
      } catch {
        // keep the raw components
      }
    }
    return fromComponents(raw);
  } catch {
    return undefined;
  }
}

/** True when `candidate` is covered by `pattern` under the module's matching rules. */
export function purlMatches(pattern: ParsedPurl, candidate: ParsedPurl): boolean {
  if (pattern.type !== candidate.type) return false;
  if ((pattern.namespace ?? '') !== (candidate.namespace ?? '')) return false;
  if (pattern.name !== candidate.name) return false;
  if (pattern.version !== undefined && pattern.version !== candidate.version) return false;
  if (pattern.subpath !== undefined && pattern.subpath !== candidate.subpath) return false;
  for (const [k, v] of Object.entries(pattern.qualifiers)) {
    if (candidate.qualifiers[k] !== v) return false;
  }
  return true;
}

/** Parses both strings and matches them; false when either is not a purl. */
export function purlStringMatches(pattern: string, candidate: string | undefined): boolean {
  if (!candidate) return false;
  const p = parsePurl(pattern);
  const c = parsePurl(candidate);
  return p !== undefined && c !== undefined && purlMatches(p, c);
}
