/**
 * Distribution family names. `family` is the os-release `ID`, lower-cased and mapped to the name
 * the distribution trackers (and Vigil's matchers) use for it.
 */

/** ids seen in the wild (old os-release files, release-file product names) → tracker name */
const ALIASES: Readonly<Record<string, string>> = {
  redhat: 'rhel',
  'red-hat': 'rhel',
  'redhat-enterprise-linux': 'rhel',
  oracle: 'ol',
  oraclelinux: 'ol',
  amazon: 'amzn',
  amazonlinux: 'amzn',
  alma: 'almalinux',
  rockylinux: 'rocky',
  'cbl-mariner': 'mariner',
  // openSUSE Leap 42.x still wrote ID=opensuse
  opensuse: 'opensuse-leap',
  sles_sap: 'sles',
  'suse-linux-enterprise-server': 'sles',
};

/**
 * Maps an os-release `ID` (or an lsb-release `DISTRIB_ID`) to a family name: trimmed, lower-cased,
 * then known aliases replaced (`redhat` → `rhel`, `oracle` → `ol`, `opensuse` → `opensuse-leap`...).
 * Unknown ids are returned lower-cased (`bottlerocket`, `echo`). Returns '' for an empty id.
 */
export function normaliseFamily(id: string): string {
  const lower = id.trim().toLowerCase();
  return ALIASES[lower] ?? lower;
}

/** Families whose trackers key on a release codename (bookworm, jammy). */
export const CODENAME_FAMILIES: ReadonlySet<string> = new Set(['debian', 'ubuntu']);
