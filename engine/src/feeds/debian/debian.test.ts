import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import type { AffectedPackage, FixState } from '../../model/vulnerability.js';
import type { Severity } from '../../model/severity.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { startReplayServer, type ReplayServer } from '../alpine/testdata/replay-server.js';
import { createDebianFeed, debianFeed } from './index.js';

const bufferBody = (buf: Buffer | string, name = 'tracker.json'): FeedBody => ({
  name,
  open: async () => Readable.from([Buffer.from(buf)]),
});

async function parseAll(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of debianFeed.parse(body)) out.push(r);
  return out;
}

const REL: Record<string, string> = {
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  sid: 'unstable',
};

/** One expected affected row (the tracker names the source package and the codename). */
function row(
  vulnId: string,
  pkg: string,
  codename: string,
  fixState: FixState,
  fixed: string | null,
  urgency: string,
  severity: Severity,
): AffectedPackage {
  const a: AffectedPackage = {
    vulnId,
    namespace: `debian:${REL[codename]}`,
    packageName: pkg,
    fixState,
    ranges: fixed ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] : [],
    severity: { source: 'debian', rating: urgency, severity },
    extra: { release: codename },
  };
  if (fixed) a.fixedVersion = fixed;
  return a;
}

const tracker = (id: string, bug?: number) =>
  bug
    ? [`https://security-tracker.debian.org/tracker/${id}`, `https://bugs.debian.org/${bug}`]
    : [`https://security-tracker.debian.org/tracker/${id}`];

describe.skipIf(!hasRealdata)('debian tracker: realdata', () => {
  it('maps the vunnel slice of the tracker JSON, one record per package and CVE with every release', async () => {
    const path = realdata('feeds/debian/vunnel-security-tracker-slice.json');
    const records = await parseAll({ name: path, open: async () => Readable.from([await readFile(path)]) });
    const four = ['stretch', 'jessie', 'buster', 'sid'];
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2008-7220',
          aliases: [],
          description:
            'Unspecified vulnerability in Prototype JavaScript framework (prototypejs) before 1.6.0.2 allows attackers to make "cross-site ajax requests" via unknown vectors.',
          cvss: [],
          vendorSeverities: [{ source: 'debian', rating: 'high**', severity: 'HIGH' }],
          cwes: [],
          references: tracker('CVE-2008-7220', 555217),
        },
        affected: four.map((c) =>
          row('CVE-2008-7220', 'prototypejs', c, 'fixed', '1.6.0.2-1', 'high**', 'HIGH'),
        ),
      },
      {
        // fixed_version "0": never affected
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2007-2383',
          aliases: [],
          description: expect.stringMatching(
            /^The Prototype \(prototypejs\) framework before 1\.5\.1 RC3 .*"JavaScript Hijacking\."$/,
          ),
          cvss: [],
          vendorSeverities: [{ source: 'debian', rating: 'unimportant', severity: 'LOW' }],
          cwes: [],
          references: tracker('CVE-2007-2383', 555217),
        },
        affected: four.map((c) =>
          row('CVE-2007-2383', 'prototypejs', c, 'not-affected', null, 'unimportant', 'LOW'),
        ),
      },
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2013-1444',
          aliases: [],
          description:
            'A certain Debian patch for txt2man 1.5.5, as used in txt2man 1.5.5-2, 1.5.5-4, and others, allows local users to overwrite arbitrary files via a symlink attack on /tmp/2222.',
          cvss: [],
          vendorSeverities: [{ source: 'debian', rating: 'low**', severity: 'LOW' }],
          cwes: [],
          references: tracker('CVE-2013-1444', 724614),
        },
        affected: four.map((c) => row('CVE-2013-1444', 'txt2man', c, 'fixed', '1.5.5-4.1', 'low**', 'LOW')),
      },
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2005-3111',
          aliases: [],
          description:
            'The handler code for backupninja 0.8 and earlier creates temporary files with predictable filenames, which allows local users to modify arbitrary files via a symlink attack.',
          cvss: [],
          vendorSeverities: [{ source: 'debian', rating: 'medium', severity: 'MEDIUM' }],
          cwes: [],
          references: tracker('CVE-2005-3111'),
        },
        affected: four.map((c) =>
          row('CVE-2005-3111', 'backupninja', c, 'fixed', '0.8-2', 'medium', 'MEDIUM'),
        ),
      },
      {
        // open + end-of-life urgency: the release lost security support for chromium
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2022-0456',
          aliases: [],
          cvss: [],
          vendorSeverities: [{ source: 'debian', rating: 'not yet assigned', severity: 'UNKNOWN' }],
          cwes: [],
          references: tracker('CVE-2022-0456'),
        },
        affected: [
          row(
            'CVE-2022-0456',
            'chromium',
            'bookworm',
            'fixed',
            '98.0.4758.80-1',
            'not yet assigned',
            'UNKNOWN',
          ),
          row(
            'CVE-2022-0456',
            'chromium',
            'bullseye',
            'fixed',
            '98.0.4758.80-1~deb11u1',
            'not yet assigned',
            'UNKNOWN',
          ),
          row('CVE-2022-0456', 'chromium', 'buster', 'will-not-fix', null, 'end-of-life', 'UNKNOWN'),
          row('CVE-2022-0456', 'chromium', 'sid', 'fixed', '98.0.4758.80-1', 'not yet assigned', 'UNKNOWN'),
          row('CVE-2022-0456', 'chromium', 'stretch', 'will-not-fix', null, 'end-of-life', 'UNKNOWN'),
        ],
      },
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2025-53603',
          aliases: [],
          description:
            'In Alinto SOPE SOGo 2.0.2 through 5.12.2, sope-core/NGExtensions/NGHashMap.m allows a NULL pointer dereference and SOGo crash via a request in which a parameter in the query string is a duplicate of a parameter in the POST body.',
          cvss: [],
          vendorSeverities: [{ source: 'debian', rating: 'not yet assigned', severity: 'UNKNOWN' }],
          cwes: [],
          references: tracker('CVE-2025-53603', 1108798),
        },
        affected: [
          row(
            'CVE-2025-53603',
            'sope',
            'bookworm',
            'fixed',
            '5.8.0-1+deb12u1',
            'not yet assigned',
            'UNKNOWN',
          ),
          row(
            'CVE-2025-53603',
            'sope',
            'bullseye',
            'fixed',
            '5.0.1-2+deb11u1',
            'not yet assigned',
            'UNKNOWN',
          ),
          row('CVE-2025-53603', 'sope', 'sid', 'fixed', '5.12.1-2', 'not yet assigned', 'UNKNOWN'),
          row('CVE-2025-53603', 'sope', 'trixie', 'fixed', '5.12.1-2', 'not yet assigned', 'UNKNOWN'),
        ],
      },
      {
        // "releases": [] is the tracker's empty map
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2022-0358',
          aliases: [],
          cvss: [],
          vendorSeverities: [],
          cwes: [],
          references: tracker('CVE-2022-0358'),
        },
        affected: [],
      },
    ]);
  });

  it.each([
    ['feeds/debian/vunnel-security-tracker-slice.json', true],
    // vuln-list-debian intermediate files and the DSA list are not the tracker JSON (see index.ts)
    ['feeds/debian/trivydb-tracker-CVE-2021-3450.json', false],
    ['feeds/debian/trivydb-tracker-distributions.json', false],
    ['feeds/debian/vunnel-DSA-list.txt', false],
    // Echo's advisories share the {package: {CVE: {…}}} nesting, without per-release states
    ['feeds/other/vunnel-echo-advisories-data.json', false],
    ['feeds/alpine/claircore-secdb-v3.10-community.json', false],
    ['feeds/redhat/trivydb-csaf-vex-cve-2024-10041.json', false],
  ])('detect(%s) = %s', async (file, expected) => {
    const head = (await readFile(realdata(file))).subarray(0, 4096);
    expect(debianFeed.detect({ name: file, head })).toBe(expected);
  });

  it('refuses the vuln-list-debian files and Echo advisories with ENG_FEED_FORMAT', async () => {
    for (const file of [
      'debian/trivydb-tracker-CVE-2021-3450.json',
      'debian/trivydb-tracker-distributions.json',
      'other/vunnel-echo-advisories-data.json',
    ]) {
      const buf = await readFile(realdata(`feeds/${file}`));
      const error = await parseAll(bufferBody(buf)).catch((e: unknown) => e);
      expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
    }
  });

  it('never throws anything but ENG_FEED_FORMAT on mutated tracker JSON', async () => {
    const seed = await readFile(realdata('feeds/debian/vunnel-security-tracker-slice.json'));
    const failures = await fuzz(
      [seed, Buffer.from(SYNTHETIC)],
      10_000,
      async (input) => {
        await parseAll(bufferBody(input));
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
  });
});

// Our own cases for the triage tags, malformed entries, TEMP ids and unknown codenames.
const SYNTHETIC = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), 'testdata', 'tracker-synthetic.json'),
  'utf8',
);

describe('debian tracker: triage tags and damage', () => {
  it('maps no-dsa reasons, undetermined and unimportant, and counts malformed entries', async () => {
    const feed = createDebianFeed({ releases: { ...REL, forky: '14' } });
    const records: FeedRecord[] = [];
    for await (const r of feed.parse(bufferBody(SYNTHETIC))) records.push(r);
    const id = 'CVE-2024-0001';
    const base = (codename: string, state: FixState, urgency: string, sev: Severity): AffectedPackage => ({
      ...row(id, 'libfoo', codename, state, null, urgency, sev),
      namespace: codename === 'forky' ? 'debian:14' : `debian:${REL[codename]}`,
    });
    expect(records).toEqual([
      { type: 'malformed', message: 'unknown status "bogus"', ref: 'libfoo/CVE-2024-0001/buster' },
      {
        type: 'malformed',
        message: 'resolved without a usable fixed_version',
        ref: 'libfoo/CVE-2024-0001/jessie',
      },
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: [],
          description: 'first',
          cvss: [],
          // libfoo's highest urgency over its releases
          vendorSeverities: [{ source: 'debian', rating: 'medium', severity: 'MEDIUM' }],
          cwes: [],
          references: tracker(id),
        },
        affected: [
          base('bookworm', 'will-not-fix', 'low', 'LOW'),
          base('bullseye', 'deferred', 'low', 'LOW'),
          base('trixie', 'unfixed', 'medium', 'MEDIUM'),
          base('forky', 'unfixed', 'not yet assigned', 'UNKNOWN'),
          base('sid', 'will-not-fix', 'unimportant', 'LOW'),
        ],
      },
      { type: 'malformed', message: 'CVE entry is not an object', ref: 'libfoo/CVE-2024-0002' },
      { type: 'malformed', message: 'package entry is not an object', ref: 'libbar' },
      {
        // the same CVE under another source package: a second part, merged by id in the snapshot
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: [],
          cvss: [],
          vendorSeverities: [{ source: 'debian', rating: 'high*', severity: 'HIGH' }],
          cwes: [],
          references: tracker(id),
        },
        affected: [row(id, 'libbaz', 'bookworm', 'fixed', '1:2.0-1', 'high*', 'HIGH')],
      },
    ]);
  });

  it('reads a gzipped tracker document', async () => {
    const records: FeedRecord[] = [];
    for await (const r of debianFeed.parse(bufferBody(gzipSync(SYNTHETIC)))) records.push(r);
    expect(records.map((r) => r.type)).toEqual([
      'malformed',
      'malformed',
      'vulnerability',
      'malformed',
      'malformed',
      'vulnerability',
    ]);
  });

  it.each([
    ['{}', /not a Debian security tracker document/],
    ['{"Header": {"ID": "CVE-2021-3450"}}', /not a Debian security tracker document/],
    ['{"libfoo": {"CVE-2024-0001": {"releases": {}}}', /truncated document/],
    ['not json', /not a JSON object/],
  ])('refuses %j with ENG_FEED_FORMAT', async (text, message) => {
    const error = await parseAll(bufferBody(text)).catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
    expect((error as Error).message).toMatch(message);
  });
});

describe('debian tracker: fetch against a loopback server', () => {
  let server: ReplayServer;
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'vigil-debian-'));
  });
  afterEach(async () => {
    await server?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('downloads once, then answers unchanged on 304 and on identical bytes, updated on new bytes', async () => {
    server = await startReplayServer({
      '/tracker/data/json': [
        { status: 503, headers: { 'retry-after': '0' } },
        { body: SYNTHETIC, etag: '"v1"' },
        { body: SYNTHETIC, etag: '"v1"' },
        // a server that stops sending ETags: same bytes are still "unchanged"
        { body: SYNTHETIC },
        { body: SYNTHETIC.replace('first', 'second') },
      ],
    });
    const baseUrl = `${server.url}/tracker/`;
    const first = await debianFeed.fetch({ baseUrl, workDir });
    expect(first).toEqual({
      status: 'updated',
      mode: 'full',
      checkpoint: {
        'data/json#etag': '"v1"',
        'data/json#sha256': expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      bodies: [{ name: join(workDir, 'debian', 'tracker.json'), open: expect.any(Function) }],
    });
    if (first.status !== 'updated') throw new Error('unreachable');
    const records = await parseAll(first.bodies[0]!);
    expect(records.filter((r) => r.type === 'vulnerability')).toHaveLength(2);

    expect(await debianFeed.fetch({ baseUrl, workDir, checkpoint: first.checkpoint })).toEqual({
      status: 'unchanged',
    });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe('"v1"');
    expect(await debianFeed.fetch({ baseUrl, workDir, checkpoint: first.checkpoint })).toEqual({
      status: 'unchanged',
    });
    const changed = await debianFeed.fetch({ baseUrl, workDir, checkpoint: first.checkpoint });
    expect(changed.status).toBe('updated');
    expect(server.requests.map((r) => r.path)).toEqual(Array(5).fill('/tracker/data/json'));
  });

  it('fails with ENG_FEED_HTTP when the tracker is missing', async () => {
    server = await startReplayServer({});
    const error = await debianFeed.fetch({ baseUrl: server.url, workDir }).catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_HTTP');
  });
});
