/**
 * Offline routing (`vigil db build --from DIR`): which of the OSV-format feeds claims a file, from
 * its first bytes (already gunzipped by the caller).
 *
 * Rule: a file is OSV when it is a JSON object with a string `"id"` and one of `"modified"`,
 * `"affected"`, `"schema_version"`, `"published"` (and none of the keys that mark NVD, KEV, CSAF,
 * CVE 5 or GitHub API documents); when the head ends before the document does, when every
 * top-level key seen so far is an OSV schema key and `id` or one of those four is among them; or
 * a zip whose first entry is such a JSON file. It belongs to
 * - `ubuntu` when an `"ecosystem"` value in the head starts with `Ubuntu`, `almalinux` with
 *   `AlmaLinux`, `rocky` with `Rocky Linux` (the first such value wins);
 * - else, by the id prefix (when the head is cut before `affected`): UBUNTU-/USN-/LSN- → ubuntu,
 *   ALSA-/ALBA-/ALEA- → almalinux, RLSA-/RLBA-/RLEA-/RXSA- → rocky;
 * - else `osv` (language ecosystems, GitHub advisory-database files, PYSEC, GO, and the rest).
 * An export zip is routed by its first entry: the exports hold one ecosystem each.
 * GitHub advisory API bodies (`ghsa_id` / `ghsaId`) belong to `ghsa`.
 */
import { constants, inflateRawSync } from 'node:zlib';
import { familyOfEcosystem, familyOfId, type OsvFamily } from './ecosystems.js';
import { looksLikeOsvRecord, OSV_KEYS, OSV_TOP_LEVEL_KEYS } from './parse.js';
import { isObject } from './shape.js';
import { looksLikeZip } from './zip.js';

/**
 * The top-level keys of a JSON object read from a possibly cut head, with their string values
 * (undefined for other values): a small scanner that tracks nesting outside strings.
 */
export function topLevelKeys(text: string): Map<string, string | undefined> {
  const keys = new Map<string, string | undefined>();
  let depth = 0;
  let pendingKey: string | undefined;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) break; // cut inside a string
      const raw = text.slice(i + 1, j);
      i = j;
      if (depth !== 1) continue;
      let value: string;
      try {
        value = JSON.parse(`"${raw}"`) as string;
      } catch {
        return keys;
      }
      if (expectValue && pendingKey !== undefined) {
        keys.set(pendingKey, value);
        pendingKey = undefined;
        expectValue = false;
      } else if (/^\s*:/.test(text.slice(j + 1, j + 64))) {
        pendingKey = value;
        keys.set(value, undefined);
      }
    } else if (c === ':' && depth === 1 && pendingKey !== undefined) expectValue = true;
    else if (c === '{' || c === '[') {
      depth++;
      expectValue = false;
      pendingKey = undefined;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) {
      pendingKey = undefined;
      expectValue = false;
    }
  }
  return keys;
}

/** The OSV-format feed a file belongs to, or undefined when it is not an OSV record or export zip. */
export function detectOsvFamily(head: Buffer): OsvFamily | undefined {
  return looksLikeZip(head) ? zipFamily(head) : jsonFamily(head.toString('utf8').replace(/^\uFEFF/, ''));
}

function jsonFamily(text: string, idHint?: string): OsvFamily | undefined {
  if (!/^\s*\{/.test(text)) return undefined;
  let id: string | undefined;
  let ecosystems: string[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined; // a head cut mid-document: fall back to patterns
  }
  if (doc !== undefined) {
    if (!looksLikeOsvRecord(doc) || !isObject(doc)) return undefined;
    id = doc.id as string;
    if (Array.isArray(doc.affected))
      for (const a of doc.affected) {
        const eco = isObject(a) && isObject(a.package) ? a.package.ecosystem : undefined;
        if (typeof eco === 'string') ecosystems.push(eco);
      }
  } else {
    // a cut head (a long `details` may come before `affected`): every top-level key seen so far
    // must be an OSV key, and `id` or a key only OSV records have must be among them
    const keys = [...topLevelKeys(text).entries()];
    if (keys.length === 0 || keys.some(([k]) => !OSV_TOP_LEVEL_KEYS.has(k))) return undefined;
    if (!keys.some(([k]) => k === 'id' || OSV_KEYS.includes(k))) return undefined;
    const idValue = keys.find(([k]) => k === 'id')?.[1];
    id = idValue ?? idHint ?? '';
    ecosystems = [...text.matchAll(/"ecosystem"\s*:\s*"([^"\\]*)"/g)].map((m) => m[1]!);
  }
  for (const eco of ecosystems) {
    const family = familyOfEcosystem(eco);
    if (family !== 'osv') return family;
  }
  return familyOfId(id);
}

function zipFamily(head: Buffer): OsvFamily | undefined {
  if (head.length < 30 || head.readUInt32LE(0) !== 0x04034b50) return undefined;
  const method = head.readUInt16LE(8);
  const nameLen = head.readUInt16LE(26);
  const extraLen = head.readUInt16LE(28);
  if (head.length < 30 + nameLen) return undefined;
  const name = head.toString('utf8', 30, 30 + nameLen);
  if (!name.toLowerCase().endsWith('.json')) return undefined;
  const idHint = name.replace(/^.*\//, '').replace(/\.json$/i, '');
  const data = head.subarray(30 + nameLen + extraLen);
  let text: string;
  try {
    // the head holds only the start of the entry: inflate what is there
    text =
      method === 8
        ? inflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8')
        : method === 0
          ? data.toString('utf8')
          : '';
  } catch {
    text = '';
  }
  if (text.trim() === '') return /^[A-Za-z]+-[\w.:-]+$/.test(idHint) ? familyOfId(idHint) : undefined;
  return jsonFamily(text.replace(/^\uFEFF/, ''), idHint);
}

/** True for a GitHub advisory API body: a REST page or advisory (`ghsa_id`), a GraphQL advisory (`ghsaId`). */
export function detectGhsaApi(head: Buffer): boolean {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  return (
    /^\s*[[{]/.test(text) &&
    /"(ghsa_id|ghsaId)"\s*:\s*"GHSA-/.test(text) &&
    !/"(security_advisory|dependency)"\s*:/.test(text)
  );
}
