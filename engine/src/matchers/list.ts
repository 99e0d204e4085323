/**
 * The explicit matcher list (no self-registration). A package goes to the FIRST matcher whose
 * `filter` claims it: OS package types first (they need a supported distro), then one matcher per
 * language ecosystem.
 */
import { apkMatcher } from './apk.js';
import { dpkgMatcher } from './dpkg.js';
import {
  cargoMatcher,
  composerMatcher,
  gemMatcher,
  golangMatcher,
  mavenMatcher,
  npmMatcher,
  nugetMatcher,
  pypiMatcher,
} from './language.js';
import { rpmMatcher } from './rpm.js';
import type { Matcher } from './types.js';

export const MATCHERS = [
  apkMatcher,
  dpkgMatcher,
  rpmMatcher,
  npmMatcher,
  pypiMatcher,
  golangMatcher,
  mavenMatcher,
  gemMatcher,
  cargoMatcher,
  composerMatcher,
  nugetMatcher,
] as const satisfies readonly Matcher[];

/** Names of MATCHERS: `os/apk`, `os/dpkg`, `os/rpm`, `lang/npm`, … */
export const MATCHER_NAMES: readonly string[] = MATCHERS.map((m) => m.name);
