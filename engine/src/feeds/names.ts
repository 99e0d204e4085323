/**
 * Names of the feeds, in the order of FEEDS (feeds/index.ts; a test keeps the two equal). Kept
 * apart so help texts and option checks need not load every feed.
 */
export const FEED_NAMES = [
  'nvd',
  'ghsa',
  'osv',
  'ubuntu',
  'almalinux',
  'rocky',
  'debian',
  'wolfi',
  'chainguard',
  'alpine',
  'redhat',
  'amzn',
  'kev',
  'epss',
] as const;
