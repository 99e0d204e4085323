/**
 * The records of a feed's bodies as one stream, applying the feed's on-error policy per body:
 * `skip` reports the body and goes on (its records read before the failure stay), `fail` stops.
 */
import { EngineError, isEngineError, throwIfAborted } from '../errors.js';
import type { Feed, FeedBody, FeedRecord } from '../feeds/types.js';
import type { Unknown } from '../model/unknown.js';

const message = (e: unknown) =>
  isEngineError(e) ? `${e.code}: ${e.message}` : ((e as Error)?.message ?? String(e));

export interface FeedRecordsOptions {
  signal?: AbortSignal;
  /** a body failed and was skipped (on-error `skip`) */
  onSkipped?: (problem: Unknown) => void;
  /** after each body: bodies done, total */
  onBody?: (done: number, total: number) => void;
}

/**
 * Yields every record of `bodies` in order.
 * @throws ENG_ABORTED; ENG_DB_BUILD_FAILED (cause: the parse error) when a body fails and the feed's
 *   on-error policy is `fail`
 */
export async function* feedRecords(
  feed: Feed,
  bodies: readonly FeedBody[],
  options: FeedRecordsOptions = {},
): AsyncGenerator<FeedRecord> {
  let done = 0;
  for (const body of bodies) {
    throwIfAborted(options.signal);
    try {
      for await (const record of feed.parse(body, { signal: options.signal })) yield record;
    } catch (e) {
      if (options.signal?.aborted || (isEngineError(e) && e.code === 'ENG_ABORTED')) throw e;
      if (feed.onError === 'fail')
        throw new EngineError(
          'ENG_DB_BUILD_FAILED',
          `feed ${feed.name} failed on ${body.name}: ${message(e)}`,
          {
            cause: e,
          },
        );
      options.onSkipped?.({ path: body.name, message: message(e), source: feed.name });
    }
    options.onBody?.(++done, bodies.length);
  }
}

export { message as errorMessage };
