/**
 * The explicit feed list (no self-registration). Order matters for `db build --from`: a file goes
 * to the FIRST feed whose `detect` accepts it, so specific feeds come before general ones.
 */
import { EngineError } from '../errors.js';
import { alpineFeed } from './alpine/index.js';
import { amazonFeed } from './amazon/index.js';
import { debianFeed } from './debian/index.js';
import { epssFeed } from './epss/index.js';
import { kevFeed } from './kev/index.js';
import { nvdFeed } from './nvd/index.js';
import { almaFeed, ghsaFeed, osvFeed, rockyFeed, ubuntuFeed } from './osv/index.js';
import { redhatFeed } from './redhat/index.js';
import type { Feed } from './types.js';
import { chainguardFeed, wolfiFeed } from './wolfi/index.js';

/**
 * Every feed Vigil has, in detection order: Wolfi/Chainguard secdb before Alpine's (same document
 * shape, told apart by publisher), the GitHub API format before generic OSV.
 */
export const FEEDS: readonly Feed[] = [
  nvdFeed,
  ghsaFeed,
  osvFeed,
  ubuntuFeed,
  almaFeed,
  rockyFeed,
  debianFeed,
  wolfiFeed,
  chainguardFeed,
  alpineFeed,
  redhatFeed,
  amazonFeed,
  kevFeed,
  epssFeed,
];

/** Names of FEEDS, in order (a constant in names.ts so help texts need not load the feeds). */
export { FEED_NAMES } from './names.js';

/**
 * The feeds named in `names` (all of `from` when `names` is empty or undefined), in list order.
 * @throws ENG_FEED_UNKNOWN naming the unknown names and the valid ones
 */
export function selectFeeds(names: readonly string[] | undefined, from: readonly Feed[] = FEEDS): Feed[] {
  if (!names?.length) return [...from];
  const wanted = new Set(names);
  const unknown = [...wanted].filter((n) => !from.some((f) => f.name === n));
  if (unknown.length)
    throw new EngineError(
      'ENG_FEED_UNKNOWN',
      `unknown feed${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; feeds: ${from.map((f) => f.name).join(', ')}`,
    );
  return from.filter((f) => wanted.has(f.name));
}
