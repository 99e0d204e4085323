/**
 * End-of-life dates of the distro releases Vigil matches: after this day a release gets no more
 * security fixes from its vendor, so its trackers stop listing new vulnerabilities for it and a
 * scan of it is incomplete. Dates are the last day of support (UTC).
 *
 * Sources (checked 2026-11): Alpine https://alpinelinux.org/releases/ (main repository support
 * end); Debian https://wiki.debian.org/LTS (end of LTS, the last security support the tracker
 * follows); Ubuntu https://ubuntu.com/about/release-cycle (end of standard support; LTS releases
 * then get ESM fixes only with Ubuntu Pro, given as `extended`); RHEL
 * https://access.redhat.com/support/policy/updates/errata (end of Maintenance Support; ELS
 * products are tracked under CPEs of their own); CentOS https://www.centos.org/centos-linux-eol/;
 * Rocky https://wiki.rockylinux.org/rocky/version/; AlmaLinux https://wiki.almalinux.org/release-notes/;
 * Oracle Linux https://www.oracle.com/a/ocom/docs/elsp-lifetime-069338.pdf (end of Premier Support);
 * Amazon Linux https://aws.amazon.com/amazon-linux-2/faqs/ and https://aws.amazon.com/linux/amazon-linux-2023/faqs/.
 * A release missing from a table is either newer than the table (no warning) or unknown to the
 * trackers (os-target.ts warns when the database has no data for it).
 */

export interface EolEntry {
  /** last day of support, YYYY-MM-DD */
  eol: string;
  /** paid extended support end (Ubuntu ESM), YYYY-MM-DD */
  extended?: string;
}

const e = (eol: string, extended?: string): EolEntry => (extended ? { eol, extended } : { eol });

/** family → release (as the namespace names it) → end of life. */
export const EOL_DATES: Readonly<Record<string, Readonly<Record<string, EolEntry>>>> = {
  alpine: {
    '2.0': e('2012-04-01'),
    '2.1': e('2012-11-01'),
    '2.2': e('2013-05-01'),
    '2.3': e('2013-11-01'),
    '2.4': e('2014-05-01'),
    '2.5': e('2014-11-01'),
    '2.6': e('2015-05-01'),
    '2.7': e('2015-11-01'),
    '3.0': e('2016-05-01'),
    '3.1': e('2016-11-01'),
    '3.2': e('2017-05-01'),
    '3.3': e('2017-11-01'),
    '3.4': e('2018-05-01'),
    '3.5': e('2018-11-01'),
    '3.6': e('2019-05-01'),
    '3.7': e('2019-11-01'),
    '3.8': e('2020-05-01'),
    '3.9': e('2020-11-01'),
    '3.10': e('2021-05-01'),
    '3.11': e('2021-11-01'),
    '3.12': e('2022-05-01'),
    '3.13': e('2022-11-01'),
    '3.14': e('2023-05-01'),
    '3.15': e('2023-11-01'),
    '3.16': e('2024-05-23'),
    '3.17': e('2024-11-22'),
    '3.18': e('2025-05-09'),
    '3.19': e('2025-11-01'),
    '3.20': e('2026-04-01'),
    '3.21': e('2026-11-01'),
    '3.22': e('2027-05-01'),
  },
  debian: {
    '6': e('2016-02-29'),
    '7': e('2018-05-31'),
    '8': e('2020-06-30'),
    '9': e('2022-06-30'),
    '10': e('2024-06-30'),
    '11': e('2026-08-31'),
    '12': e('2028-06-30'),
    '13': e('2030-06-30'),
  },
  ubuntu: {
    '12.04': e('2017-04-28', '2019-04-28'),
    '14.04': e('2019-04-25', '2024-04-25'),
    '16.04': e('2021-04-30', '2026-04-30'),
    '18.04': e('2023-05-31', '2028-03-31'),
    '18.10': e('2019-07-18'),
    '19.04': e('2020-01-23'),
    '19.10': e('2020-07-17'),
    '20.04': e('2025-05-31', '2030-05-31'),
    '20.10': e('2021-07-22'),
    '21.04': e('2022-01-20'),
    '21.10': e('2022-07-14'),
    '22.04': e('2027-06-01', '2032-04-30'),
    '22.10': e('2023-07-20'),
    '23.04': e('2024-01-25'),
    '23.10': e('2024-07-11'),
    '24.04': e('2029-05-31', '2034-04-30'),
    '24.10': e('2025-07-10'),
    '25.04': e('2026-01-15'),
  },
  rhel: {
    '5': e('2017-03-31'),
    '6': e('2020-11-30'),
    '7': e('2024-06-30'),
    '8': e('2029-05-31'),
    '9': e('2032-05-31'),
    '10': e('2035-05-31'),
  },
  centos: {
    '5': e('2017-03-31'),
    '6': e('2020-11-30'),
    '7': e('2024-06-30'),
    '8': e('2021-12-31'),
  },
  rocky: { '8': e('2029-05-31'), '9': e('2032-05-31') },
  almalinux: { '8': e('2029-03-01'), '9': e('2032-05-31') },
  ol: { '6': e('2021-03-01'), '7': e('2024-12-31'), '8': e('2029-07-31'), '9': e('2032-06-30') },
  amzn: { '1': e('2023-12-31'), '2': e('2026-06-30'), '2022': e('2023-03-15'), '2023': e('2029-06-30') },
};

/** The end-of-life entry of a release, or undefined when the table has none. */
export function eolOf(family: string, release: string): EolEntry | undefined {
  const table = EOL_DATES[family];
  return table && Object.hasOwn(table, release) ? table[release] : undefined;
}
