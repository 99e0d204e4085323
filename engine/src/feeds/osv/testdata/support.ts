/** Test helpers for the OSV feeds: in-memory bodies, collecting records, reading realdata JSON. */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { realdata } from '../../../../../test/support/realdata.js';
import type { FeedBody, FeedRecord } from '../../types.js';

/** A FeedBody over bytes, delivered in chunks of `chunk` bytes (exercises the head sniffing). */
export function bufferBody(bytes: Uint8Array, name = 'memory', chunk = 1 << 16): FeedBody {
  return {
    name,
    open: async () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunk) parts.push(Buffer.from(bytes.subarray(i, i + chunk)));
      return Readable.from(parts);
    },
  };
}

export async function collect(records: AsyncIterable<FeedRecord>): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

/** A realdata feed file's bytes and parsed JSON, e.g. `feed('ghsa/advisorydb-GHSA-….json')`. */
export function feed(rel: string): { bytes: Buffer; json: any } {
  const bytes = readFileSync(realdata(`feeds/${rel}`));
  return {
    bytes,
    get json() {
      return JSON.parse(bytes.toString('utf8'));
    },
  };
}
