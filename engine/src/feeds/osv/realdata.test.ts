/**
 * Every file of realdata feeds/osv/, feeds/ghsa/ and the OSV-format files of feeds/ubuntu/ and
 * feeds/wolfi/ through the feed that claims it, summarised as one line per row
 * (`namespace package fixState fixedVersion`) plus the skipped counts. Expected values were read
 * off the files (ecosystem, name, the first `fixed` event of the non-GIT ranges).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import type { Feed } from '../types.js';
import { almaFeed, ghsaFeed, osvFeed, rockyFeed, ubuntuFeed } from './index.js';
import { newOsvParseStats } from './osv-record.js';
import { bufferBody, collect, feed } from './testdata/support.js';

const FEEDS: Record<string, Feed> = {
  osv: osvFeed,
  ghsa: ghsaFeed,
  ubuntu: ubuntuFeed,
  almalinux: almaFeed,
  rocky: rockyFeed,
};

type Summary = { feed: string; record: string; rows: string[]; skipped: Record<string, number> };
const go = (name: string, fix: string) => `golang ${name} fixed ${fix}`;

const EXPECTED: Record<string, Summary | 'not ours'> = {
  'osv/osvscanner-api.osv.dev-querybatch-cassette.yaml': 'not ours',
  'osv/osvschema-CVE-2018-5407.json': {
    feed: 'osv',
    record: 'vulnerability CVE-2018-5407',
    rows: ['3.3', '3.4', '3.5', '3.6', '3.7', '3.8'].map((r) => `alpine:${r} openssl fixed 1.0.2q-r0`),
    skipped: { '(no package)': 1 },
  },
  'osv/osvschema-CVE-2023-41045.json': {
    feed: 'osv',
    record: 'vulnerability CVE-2023-41045',
    rows: [],
    skipped: { '(no package)': 1 },
  },
  'osv/osvschema-GHSA-9v2f-6vcg-3hgv.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-9v2f-6vcg-3hgv',
    rows: ['pypi gradio unfixed -'],
    skipped: {},
  },
  'osv/osvschema-GO-2020-0001.json': {
    feed: 'osv',
    record: 'vulnerability GO-2020-0001',
    rows: [go('github.com/gin-gonic/gin', '1.6.0')],
    skipped: {},
  },
  'osv/osvschema-GO-2024-2963.json': {
    feed: 'osv',
    record: 'vulnerability GO-2024-2963',
    rows: [go('stdlib', '1.21.12')],
    skipped: {},
  },
  'osv/osvschema-MAL-2024-10238.json': {
    feed: 'osv',
    record: 'vulnerability MAL-2024-10238',
    rows: ['pypi 123bla unfixed -'],
    skipped: {},
  },
  'osv/osvschema-PYSEC-2023-74.json': {
    feed: 'osv',
    record: 'vulnerability PYSEC-2023-74',
    rows: ['pypi requests fixed 2.31.0'],
    skipped: {},
  },
  'osv/osvschema-RHSA-2022_0216.json': {
    feed: 'osv',
    record: 'vulnerability RHSA-2022:0216',
    rows: [],
    skipped: {},
  },
  'osv/osvschema-ecosystems.json': 'not ours',
  'osv/osvschema-validation-schema.json': 'not ours',
  'osv/trivydb-GO-2024-2687.json': {
    feed: 'osv',
    record: 'vulnerability GO-2024-2687',
    rows: [go('stdlib', '1.21.9'), go('golang.org/x/net', '0.23.0')],
    skipped: {},
  },
  'osv/trivydb-GO-2025-3487.json': {
    feed: 'osv',
    record: 'vulnerability GO-2025-3487',
    rows: [go('golang.org/x/crypto', '0.35.0')],
    skipped: {},
  },
  'osv/trivydb-JLSEC-2025-1.json': {
    feed: 'osv',
    record: 'vulnerability JLSEC-2025-1',
    rows: [],
    skipped: { Julia: 2 },
  },
  'osv/trivydb-PYSEC-2018-27.json': {
    feed: 'osv',
    record: 'vulnerability PYSEC-2018-27',
    rows: ['pypi qutebrowser fixed 1.4.1'],
    skipped: {},
  },
  'osv/trivydb-PYSEC-2023-120.json': {
    feed: 'osv',
    record: 'vulnerability PYSEC-2023-120',
    rows: ['pypi aiohttp unfixed -'],
    skipped: {},
  },
  'osv/trivydb-k8s-CVE-2023-2728.json': {
    feed: 'osv',
    record: 'vulnerability CVE-2023-2727',
    rows: [],
    skipped: { kubernetes: 1 },
  },
  'osv/vunnel-ALSA-2024_2433.json': {
    feed: 'almalinux',
    record: 'vulnerability ALSA-2024:2433',
    rows: [
      'avahi',
      'avahi-compat-howl',
      'avahi-compat-howl-devel',
      'avahi-compat-libdns_sd',
      'avahi-compat-libdns_sd-devel',
      'avahi-devel',
      'avahi-glib',
      'avahi-glib-devel',
      'avahi-libs',
      'avahi-tools',
    ].map((n) => `almalinux:9 ${n} fixed 0.8-20.el9`),
    skipped: {},
  },
  'osv/vunnel-BIT-brotli-2020-8927.json': {
    feed: 'osv',
    record: 'vulnerability BIT-brotli-2020-8927',
    rows: [],
    skipped: { Bitnami: 1 },
  },
  'osv/vunnel-GO-2023-1989.json': {
    feed: 'osv',
    record: 'vulnerability GO-2023-1989',
    rows: [go('golang.org/x/image', '0.10.0')],
    skipped: {},
  },
  'osv/vunnel-RLSA-2024_3671.json': {
    feed: 'rocky',
    record: 'vulnerability RLSA-2024:3671',
    rows: [
      'rocky:9 ruby fixed 0:3.3.1-2.module+el9.4.0+20787+4c237fd3',
      'rocky:9 rubygem-mysql2 fixed 0:0.5.5-1.module+el9.4.0+20787+4c237fd3',
      'rocky:9 rubygem-pg fixed 0:1.5.4-1.module+el9.4.0+20787+4c237fd3',
    ],
    skipped: {},
  },
  'osv/vunnel-echo-advisories-data.json': 'not ours',
  'ghsa/advisorydb-GHSA-2273-x2j3-xp63-unreviewed.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-2273-x2j3-xp63',
    rows: [],
    skipped: {},
  },
  'ghsa/advisorydb-GHSA-4v7x-pqxf-cx7m.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-4v7x-pqxf-cx7m',
    rows: [
      go('net/http', '1.21.9'),
      go('golang.org/x/net/http2', '0.23.0'),
      go('net/http', '1.22.2'),
      go('golang.org/x/net', '0.23.0'),
    ],
    skipped: {},
  },
  'ghsa/advisorydb-GHSA-9wx4-h78v-vm56.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-9wx4-h78v-vm56',
    rows: ['pypi requests fixed 2.32.2'],
    skipped: {},
  },
  'ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-c2qf-rxjj-qqgw',
    rows: ['npm semver fixed 7.5.2', 'npm semver fixed 6.3.1', 'npm semver fixed 5.7.2'],
    skipped: {},
  },
  'ghsa/osvschema-ghsa-api-full_ranges.json': {
    feed: 'ghsa',
    record: 'vulnerability GHSA-mr95-9rr4-668f',
    rows: [
      'maven com.typesafe.akka:akka-actor_2.12 fixed 2.5.16',
      'maven com.typesafe.akka:akka-actor_2.11 fixed 2.5.16',
    ],
    skipped: {},
  },
  'ghsa/osvschema-ghsa-api-full_ranges.osv.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-mr95-9rr4-668f',
    rows: [
      'maven com.typesafe.akka:akka-actor_2.12 fixed 2.5.16',
      'maven com.typesafe.akka:akka-actor_2.11 fixed 2.5.16',
    ],
    skipped: {},
  },
  'ghsa/osvschema-ghsa-api-withdrawn.json': {
    feed: 'ghsa',
    record: 'withdrawn GHSA-35c4-f3rq-f9g3',
    rows: [],
    skipped: {},
  },
  'ghsa/trivydb-GHSA-266m-wp2v-x7mq.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-266m-wp2v-x7mq',
    rows: ['nuget Microsoft.NetCore.App.Runtime.linux-arm fixed 9.0.6'],
    skipped: {},
  },
  'ghsa/trivydb-GHSA-4v7x-pqxf-cx7m.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-4v7x-pqxf-cx7m',
    rows: [go('net/http', '1.21.9'), go('net/http', '1.22.2')],
    skipped: {},
  },
  'ghsa/trivydb-GHSA-75v8-2h7p-7m2m.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-75v8-2h7p-7m2m',
    rows: ['npm formidable fixed 3.5.3', 'npm formidable unfixed -'],
    skipped: {},
  },
  'ghsa/trivydb-GHSA-7fj7-39wj-c64f.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-7fj7-39wj-c64f',
    rows: [],
    skipped: { SwiftURL: 3 },
  },
  'ghsa/trivydb-GHSA-f5pg-7wfw-84q9.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-f5pg-7wfw-84q9',
    rows: [go('github.com/aws/aws-sdk-go', '1.34.0')],
    skipped: {},
  },
  'ghsa/trivydb-GHSA-mp6f-p9gp-vpj9.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-mp6f-p9gp-vpj9',
    rows: ['cargo sized-chunks fixed 0.6.3'],
    skipped: {},
  },
  'ghsa/trivydb-GHSA-wjx8-cgrm-hh8p.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-wjx8-cgrm-hh8p',
    rows: ['composer contao/core-bundle fixed 4.4.46', 'composer contao/core-bundle fixed 4.8.6'],
    skipped: {},
  },
  'ghsa/trivydb-GHSA-xx65-cc7g-9pfp.json': {
    feed: 'osv',
    record: 'vulnerability GHSA-xx65-cc7g-9pfp',
    rows: ['maven org.springframework.boot:spring-boot fixed 1.5.10'],
    skipped: {},
  },
  'ubuntu/vunnel-UBUNTU-CVE-2021-3782.json': {
    feed: 'ubuntu',
    record: 'vulnerability UBUNTU-CVE-2021-3782',
    rows: [
      'ubuntu:16.04 wayland fixed 1.12.0-1~ubuntu16.04.3+esm1',
      'ubuntu:18.04 wayland fixed 1.16.0-1ubuntu1.1~18.04.4',
      'ubuntu:20.04 wayland fixed 1.18.0-1ubuntu0.1',
      'ubuntu:22.04 wayland fixed 1.20.0-1ubuntu0.1',
    ],
    skipped: {},
  },
  'ubuntu/vunnel-UBUNTU-CVE-2022-24823-esm.json': {
    feed: 'ubuntu',
    record: 'vulnerability UBUNTU-CVE-2022-24823',
    rows: [
      'ubuntu:14.04 netty unfixed -',
      'ubuntu:16.04 netty fixed 1:4.0.34-1ubuntu0.1~esm2',
      'ubuntu:18.04 netty fixed 1:4.1.7-4ubuntu0.1+esm3',
      'ubuntu:20.04 netty fixed 1:4.1.45-1ubuntu0.1~esm2',
      'ubuntu:22.04 netty fixed 1:4.1.48-4+deb11u2ubuntu0.1~esm1',
      'ubuntu:24.04 netty fixed 1:4.1.48-9ubuntu0.1~esm1',
      'ubuntu:25.10 netty unfixed -',
      'ubuntu:26.04 netty unfixed -',
    ],
    skipped: {},
  },
  'ubuntu/vunnel-USN-5614-1.json': {
    feed: 'ubuntu',
    record: 'vulnerability USN-5614-1',
    rows: [
      'ubuntu:18.04 wayland fixed 1.16.0-1ubuntu1.1~18.04.4',
      'ubuntu:20.04 wayland fixed 1.18.0-1ubuntu0.1',
      'ubuntu:22.04 wayland fixed 1.20.0-1ubuntu0.1',
    ],
    skipped: {},
  },
  // Wolfi and Chainguard rows come from their secdb feed; the CGA records add the advisory itself
  'wolfi/vunnel-CGA-224q-ccj5-2p53.json': {
    feed: 'osv',
    record: 'vulnerability CGA-224q-ccj5-2p53',
    rows: [],
    skipped: { Chainguard: 2, Wolfi: 2 },
  },
  'wolfi/vunnel-CGA-xcpc-gm23-prj9.json': {
    feed: 'osv',
    record: 'vulnerability CGA-xcpc-gm23-prj9',
    rows: [],
    skipped: { Chainguard: 3, Wolfi: 1 },
  },
};

async function summarise(rel: string): Promise<Summary | 'not ours'> {
  const { bytes } = feed(rel);
  const head = bytes.subarray(0, 4096);
  const claims = Object.entries(FEEDS).filter(([, f]) => f.detect({ name: rel, head }));
  if (claims.length === 0) return 'not ours';
  if (claims.length > 1) throw new Error(`${rel} claimed by ${claims.map(([n]) => n)}`);
  const [name, f] = claims[0]!;
  const stats = newOsvParseStats();
  const records = await collect(f.parse(bufferBody(bytes, rel), { stats } as never));
  if (records.length !== 1) throw new Error(`${rel}: ${records.length} records`);
  const r = records[0]!;
  return {
    feed: name,
    record:
      r.type === 'vulnerability'
        ? `vulnerability ${r.vulnerability.id}`
        : r.type === 'withdrawn'
          ? `withdrawn ${r.id}`
          : `${r.type}`,
    rows:
      r.type === 'vulnerability'
        ? r.affected.map((a) => `${a.namespace} ${a.packageName} ${a.fixState} ${a.fixedVersion ?? '-'}`)
        : [],
    skipped: stats.skippedByEcosystem,
  };
}

describe.skipIf(!hasRealdata)('realdata OSV-format files', () => {
  const files = ['osv', 'ghsa', 'ubuntu', 'wolfi'].flatMap((dir) =>
    readdirSync(realdata(`feeds/${dir}`))
      .map((f) => `${dir}/${f}`)
      .filter((rel) => dir === 'osv' || dir === 'ghsa' || rel in EXPECTED),
  );

  it('covers every file of feeds/osv and feeds/ghsa and the OSV ones of ubuntu and wolfi', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('each file is claimed by the right feed and parses to the expected rows', async () => {
    const got: Record<string, Summary | 'not ours'> = {};
    for (const rel of files) got[rel] = await summarise(rel);
    expect(got).toEqual(EXPECTED);
  });

  it('the files no OSV-family feed claims are refused by parse with ENG_FEED_FORMAT', async () => {
    for (const rel of Object.keys(EXPECTED).filter((k) => EXPECTED[k] === 'not ours'))
      await expect(collect(osvFeed.parse(bufferBody(feed(rel).bytes, rel))), rel).rejects.toMatchObject({
        code: 'ENG_FEED_FORMAT',
      });
  });
});
