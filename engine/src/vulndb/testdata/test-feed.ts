/**
 * A real Feed over synthetic data, for the snapshot store's tests (not a mock: it archives its
 * bodies into the work directory and parses them like any feed).
 *
 * Body format ("vigil test feed"): first line `#vigil-test-feed <feed name>`, then one FeedRecord
 * as JSON per line. A line `!fail` makes parse throw ENG_FEED_FORMAT there; a line that is not JSON
 * yields a `malformed` record.
 *
 * Upstream (the feed's baseUrl, a directory): `state.json` = { serial, full: [files], delta?: [files],
 * fail?: message }. fetch: same serial as the checkpoint → unchanged; a checkpoint and `delta` → delta
 * mode with those files; else full mode with `full`; `fail` → throws ENG_FEED_HTTP.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EngineError } from '../../errors.js';
import type { Feed, FeedBody, FeedRecord } from '../../feeds/types.js';
import type { AffectedPackage, Vulnerability } from '../../model/vulnerability.js';

export interface UpstreamState {
  serial: number;
  full: string[];
  delta?: string[];
  fail?: string;
}

export function testFeed(name: string, options: { onError?: 'fail' | 'skip'; version?: number } = {}): Feed {
  const magic = `#vigil-test-feed ${name}\n`;
  return {
    name,
    version: options.version ?? 1,
    description: `test feed ${name}`,
    onError: options.onError ?? 'fail',
    detect: ({ head }) => head.subarray(0, magic.length).toString('utf8') === magic,
    async fetch(ctx) {
      if (!ctx.baseUrl) throw new EngineError('ENG_INVALID_ARGUMENT', `${name}: no upstream directory`);
      const state = JSON.parse(await readFile(join(ctx.baseUrl, 'state.json'), 'utf8')) as UpstreamState;
      if (state.fail) throw new EngineError('ENG_FEED_HTTP', state.fail);
      if (ctx.checkpoint?.serial === state.serial) return { status: 'unchanged' };
      const delta = ctx.checkpoint !== undefined && state.delta !== undefined;
      const files = delta ? state.delta! : state.full;
      await mkdir(ctx.workDir, { recursive: true });
      const bodies: FeedBody[] = [];
      for (const [i, file] of files.entries()) {
        const archived = join(ctx.workDir, `${i}-${file}`);
        await copyFile(join(ctx.baseUrl, file), archived);
        bodies.push({ name: file, open: async () => createReadStream(archived) });
        ctx.onProgress?.(i + 1, files.length);
      }
      return { status: 'updated', checkpoint: { serial: state.serial }, mode: delta ? 'delta' : 'full', bodies };
    },
    async *parse(body) {
      const lines = createInterface({ input: await body.open(), crlfDelay: Infinity });
      let first = true;
      for await (const line of lines) {
        if (first) {
          if (`${line}\n` !== magic) throw new EngineError('ENG_FEED_FORMAT', `${body.name}: not a ${name} body`);
          first = false;
          continue;
        }
        if (!line.trim()) continue;
        if (line === '!fail') throw new EngineError('ENG_FEED_FORMAT', `${body.name}: broken on purpose`);
        try {
          yield JSON.parse(line) as FeedRecord;
        } catch {
          yield { type: 'malformed', message: 'not JSON', ref: line.slice(0, 40) };
        }
      }
    },
  };
}

/** A vulnerability record: `affected` as [namespace, package, fixedVersion?]. */
export function vuln(
  id: string,
  affected: [string, string, string?][] = [],
  extra: Partial<Vulnerability> = {},
): FeedRecord {
  return {
    type: 'vulnerability',
    vulnerability: { id, aliases: [], cvss: [], vendorSeverities: [], cwes: [], references: [], ...extra },
    affected: affected.map(
      ([namespace, packageName, fixed]): AffectedPackage => ({
        vulnId: id,
        namespace,
        packageName,
        fixState: fixed ? 'fixed' : 'unfixed',
        ranges: fixed ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] : [],
        ...(fixed ? { fixedVersion: fixed } : {}),
      }),
    ),
  };
}

/** The text of a body of `feed` holding these records (strings are written as raw lines). */
export function body(feed: string, records: (FeedRecord | string)[]): string {
  return [`#vigil-test-feed ${feed}`, ...records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)))].join('\n') + '\n';
}

/** Writes upstream files and state.json for a feed into `dir`. */
export async function writeUpstream(dir: string, files: Record<string, string>, state: UpstreamState): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  await writeFile(join(dir, 'state.json'), JSON.stringify(state));
}

/** Records from an array, as the writer takes them. */
export async function* records(items: Iterable<FeedRecord>): AsyncGenerator<FeedRecord> {
  yield* items;
}
