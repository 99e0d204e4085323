/**
 * The vulnerability database of B1's cold scan with matching (issue #4): the realdata feeds
 * (/work/shared/realdata/feeds: real records, but none about B1's packages) plus advisories
 * written here, in the feeds' own formats, about B1's actual packages, so the timed scan decides
 * real rows and reports findings. Deterministic, from the inventory of an untimed scan:
 * - Debian security tracker JSON (the format of vunnel-security-tracker-slice.json): for every
 *   third source package of the image, one CVE open in bookworm (unfixed: the usual case on a
 *   current Debian image) and, for every sixth, one resolved in a version above the installed
 *   one (affected, fixable) and one resolved below it (not affected);
 * - OSV JSON (the format of osvschema-*.json), npm: for every eighth package, an advisory
 *   affecting it (fixed in the next patch version) and, for every eighth + 4, one fixed in 0.0.1
 *   (not affected); CVSS v3.1 vectors from a small pool.
 * Ids are CVE-2099-* / VIGIL-BENCH-*: never a real vulnerability.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VECTORS = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N',
  'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N',
];

/** `1.2.3` → `1.2.4` (the next patch of a plain semver), else undefined. */
function nextPatch(version) {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m ? `${m[1]}.${m[2]}.${Number(m[3]) + 1}` : undefined;
}

/**
 * Writes the feed directory for `db build --from` into `dir` from the report of a scan of B1.
 * @returns counts of what was written (expected findings are at least `affected`)
 */
export function writeB1Feeds(dir, reportFile, realdataFeeds) {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'generated'), { recursive: true });
  cpSync(realdataFeeds, join(dir, 'realdata'), { recursive: true });

  let cve = 0;
  let affected = 0;
  const tracker = {};
  const sources = new Map();
  for (const p of report.packages.filter((x) => x.ecosystem === 'deb'))
    sources.set(p.srcName || p.name, p.srcVersion || p.version);
  [...sources]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .forEach(([name, version], i) => {
      if (i % 3 !== 0) return;
      const entries = {};
      const add = (release) => {
        const id = `CVE-2099-${String(10000 + cve++)}`;
        entries[id] = {
          scope: 'remote',
          description: `Vigil bench advisory about ${name}.`,
          releases: { bookworm: { repositories: { bookworm: version }, urgency: 'medium', ...release } },
        };
      };
      add({ status: 'open' });
      affected++;
      if (i % 6 === 0) {
        add({ status: 'resolved', fixed_version: `${version}+vigil1` });
        add({ status: 'resolved', fixed_version: '0.0.1-1' });
        affected++;
      }
      tracker[name] = entries;
    });
  writeFileSync(join(dir, 'generated', 'debian-tracker.json'), JSON.stringify(tracker));

  let osv = 0;
  const npm = report.packages.filter((x) => x.ecosystem === 'npm');
  npm.forEach((p, i) => {
    const fix = nextPatch(p.version);
    const write = (fixed) => {
      const n = osv++;
      const record = {
        schema_version: '1.6.0',
        id: `VIGIL-BENCH-${String(n).padStart(5, '0')}`,
        modified: '2026-11-01T00:00:00Z',
        published: '2026-10-01T00:00:00Z',
        aliases: [`CVE-2099-${String(50000 + n)}`],
        summary: `Vigil bench advisory about ${p.name}`,
        details: `A made-up advisory about ${p.name}, fixed in ${fixed}.`,
        severity: [{ type: 'CVSS_V3', score: VECTORS[n % VECTORS.length] }],
        affected: [
          {
            package: { ecosystem: 'npm', name: p.name },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }],
          },
        ],
        references: [{ type: 'WEB', url: `https://example.org/vigil-bench/${n}` }],
      };
      writeFileSync(join(dir, 'generated', `${record.id}.json`), JSON.stringify(record));
    };
    if (i % 8 === 0 && fix) {
      write(fix);
      affected++;
    } else if (i % 8 === 4) write('0.0.1');
  });
  return { debianSources: Object.keys(tracker).length, debianCves: cve, osvAdvisories: osv, affected };
}
