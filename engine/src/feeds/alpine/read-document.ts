/**
 * Reads one secdb document (JSON, or the YAML form vunnel mirrors) from a feed body. Secdb files
 * are small (Alpine's largest, a release's main.json, is ≈ 1 MB; Wolfi's security.json tens of
 * MB), so a document is read whole, capped at MAX_SECDB_BYTES.
 */
import { parseDocument } from 'yaml';
import { EngineError, isEngineError } from '../../errors.js';
import { maybeGunzip } from '../json-stream.js';
import type { FeedBody } from '../types.js';

export const MAX_SECDB_BYTES = 256 * 1024 ** 2;

/**
 * The parsed document. YAML is read with the failsafe schema (every scalar a string), so a
 * version key such as `1.10` stays "1.10" instead of becoming the number 1.1.
 * @throws EngineError ENG_FEED_FORMAT (not JSON/YAML, too large), ENG_ABORTED.
 */
export async function readSecdbDocument(body: FeedBody, signal?: AbortSignal): Promise<unknown> {
  const stream = await maybeGunzip(await body.open(signal));
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw new EngineError('ENG_ABORTED', `${body.name}: parse aborted`);
      size += (chunk as Buffer).length;
      if (size > MAX_SECDB_BYTES)
        throw new EngineError('ENG_FEED_FORMAT', `${body.name}: larger than ${MAX_SECDB_BYTES} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (isEngineError(e)) throw e;
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: ${(e as Error).message}`, { cause: e });
  } finally {
    stream.destroy();
  }
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  try {
    if (/^\s*\{/.test(text)) return JSON.parse(text) as unknown;
    // warnings (ambiguous anchors and the like) are not printed: the engine does not log
    const yaml = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, logLevel: 'silent' });
    if (yaml.errors.length > 0) throw yaml.errors[0]!;
    return yaml.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: neither JSON nor YAML: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
