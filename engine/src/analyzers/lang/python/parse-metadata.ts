/**
 * Installed Python distribution metadata: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`,
 * single-file `*.egg-info` and `EGG-INFO/PKG-INFO`.
 * Format: Core metadata, https://packaging.python.org/en/latest/specifications/core-metadata/ ,
 * an RFC 822 style header block (`Key: value`, continuation lines start with whitespace),
 * then an optional blank line and a free-form body (the long description), ignored here.
 * Old PKG-INFO files indent a multi-paragraph `Description:` with blank lines inside it; a blank
 * line followed by an indented line therefore continues those two fields.
 * Licenses: `License-Expression` (PEP 639, metadata 2.4), else a one-line `License`, else the
 * `License ::` trove classifiers (https://pypi.org/classifiers/).
 */

export interface DistMetadata {
  name: string;
  version: string;
  licenses: string[];
}

/** Thrown for metadata without a Name or Version: the wiring turns it into an unknown. */
export class MetadataError extends Error {
  override name = 'MetadataError';
}

/** Fields whose value may hold blank lines (indented paragraphs of old PKG-INFO files). */
const FOLDED_PARAGRAPHS = new Set(['description', 'license']);

/** Header fields by lower-cased name, in file order; continuation lines joined with `\n`. */
export function parseHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  let current: { key: string; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const list = headers.get(current.key) ?? [];
    list.push(current.lines.join('\n').trim());
    headers.set(current.key, list);
    current = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') {
      let j = i + 1;
      while (j < lines.length && lines[j] === '') j++;
      const next = lines[j];
      if (current && FOLDED_PARAGRAPHS.has(current.key) && next !== undefined && /^[ \t]/.test(next)) {
        for (let k = i; k < j; k++) current.lines.push('');
        i = j - 1;
        continue;
      }
      break; // the body starts
    }
    if (/^[ \t]/.test(line)) {
      current?.lines.push(line.trim());
      continue;
    }
    const m = /^([^:\s]+):[ \t]*(.*)$/.exec(line);
    flush();
    if (!m) break; // not a header: what follows is body text
    current = { key: m[1]!.toLowerCase(), lines: [m[2]!] };
  }
  flush();
  return headers;
}

/**
 * Parses one metadata file.
 * @throws MetadataError when Name or Version is missing, or Version is not one token.
 */
export function parseMetadata(text: string): DistMetadata {
  const headers = parseHeaders(text);
  // Name and Version are single-line fields: a folded continuation is not part of them
  const first = (key: string) => headers.get(key)?.[0]?.split('\n')[0]?.trim() ?? '';
  const name = first('name');
  const version = first('version');
  if (!name || !version) throw new MetadataError('metadata has no Name or no Version');
  if (/\s/.test(version) || version.length > 256) {
    throw new MetadataError(`invalid Version ${JSON.stringify(version.slice(0, 80))}`);
  }
  return { name, version, licenses: licensesOf(headers) };
}

function licensesOf(headers: Map<string, string[]>): string[] {
  const expression = headers.get('license-expression')?.[0]?.trim();
  if (expression) return [expression];
  const license = headers.get('license')?.[0]?.trim();
  // a multi-line License is the whole license text, not a name
  if (license && license.toUpperCase() !== 'UNKNOWN' && !license.includes('\n')) return [license];
  const out: string[] = [];
  for (const classifier of headers.get('classifier') ?? []) {
    const parts = classifier.split('::').map((s) => s.trim());
    if (parts[0] !== 'License' || parts.length < 2) continue;
    const last = parts[parts.length - 1]!;
    if (last && last !== 'OSI Approved' && !out.includes(last)) out.push(last);
  }
  return out;
}
