/**
 * `vigil db update` on the built CLI against a loopback mirror (never a real host): the KEV
 * catalog served with an ETag (304 on a re-check), a feed failing with on-error `skip` (kev: the
 * error is recorded, the update succeeds) and one with on-error `fail` (alpine: exit 8, the
 * previous snapshot untouched), and the update lock.
 */
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../engine/src/vulndb/types.js';
import { runVigil } from '../support/cli.js';
import { hasRealdata, realdata } from '../support/realdata.js';

let dir = '';
let server: Server;
let base = '';
let kevStatus = 200;
const requests: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-cli-update-'));
  const catalog = hasRealdata
    ? await readFile(realdata('feeds/kev/claircore-known_exploited_vulnerabilities.json'))
    : Buffer.from('{}');
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers['if-none-match'] ?? '-'}`);
    if (req.url === '/kev.json' && kevStatus === 200) {
      if (req.headers['if-none-match'] === '"k1"') return res.writeHead(304).end();
      return res.writeHead(200, { etag: '"k1"', 'content-type': 'application/json' }).end(catalog);
    }
    res.writeHead(kevStatus === 200 ? 404 : kevStatus).end('not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const vigil = (args: string[]) =>
  runVigil(['db', 'update', '--work-dir', join(dir, 'work'), ...args], {
    env: { VIGIL_DB: join(dir, 'vigil.db') },
  });
const status = async () =>
  JSON.parse(
    (await runVigil(['db', 'status', '--format', 'json'], { env: { VIGIL_DB: join(dir, 'vigil.db') } }))
      .stdout,
  ) as SnapshotMeta;

describe.skipIf(!hasRealdata)('vigil db update against a loopback mirror', () => {
  it('downloads KEV, re-checks it with its ETag (same version), then records a failure of the skip feed', async () => {
    const kev = ['--sources', 'kev', '--mirror', `kev=${base}/kev.json`];
    const first = await vigil(kev);
    expect(first.code).toBe(0);
    // the catalog lists CVE-2017-3066 and CVE-2021-44228
    expect(first.stderr).toMatch(
      /^vigil: kev: updated \(full\); 0 vulnerabilities, 0 affected, 2 kev\nvigil: .*vigil\.db: version [0-9a-f]{12}\n$/,
    );
    const v1 = (await status()).version;

    const second = await vigil(kev);
    expect(second.stderr).toMatch(
      /^vigil: kev: unchanged; 0 vulnerabilities, 0 affected, 2 kev\nvigil: .*: version [0-9a-f]{12} \(content unchanged\)\n$/,
    );
    expect(requests.slice(-1)).toEqual(['GET /kev.json "k1"']);
    const after = await status();
    expect(after.version).toBe(v1);

    kevStatus = 404;
    const third = await vigil(kev);
    kevStatus = 200;
    // the failure is recorded and kept visible, and it fails the command
    expect(third.code).toBe(8);
    expect(third.stderr).toMatch(/^vigil: kev: FAILED: ENG_FEED_HTTP: /);
    expect(third.stderr).toMatch(
      /vigil: ENG_DB_BUILD_FAILED: feed kev \(ENG_FEED_HTTP: .*\) failed; their previous data is kept/,
    );
    const failed = await status();
    expect(failed.version).toBe(v1);
    expect(
      failed.sources.map((s) => [s.name, s.counts.kev, s.lastError?.startsWith('ENG_FEED_HTTP: ')]),
    ).toEqual([['kev', 2, true]]);
  });

  it('a feed that fails outright exits 8, keeps its data and leaves the snapshot version unchanged', async () => {
    const before = await status();
    const r = await vigil(['--sources', 'alpine', '--mirror', `alpine=${base}/alpine/`]);
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(
      /vigil: ENG_DB_BUILD_FAILED: feed alpine \(ENG_FEED_HTTP: .*\) failed; their previous data is kept/,
    );
    expect((await status()).version).toBe(before.version);
  });

  it('refuses to run while another live process holds the lock (exit 8, ENG_DB_LOCKED)', async () => {
    await mkdir(dir, { recursive: true });
    const lock = join(dir, 'vigil.db.lock');
    // this test process is alive and on this host: the lock is live
    await writeFile(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-01-01T00:00:00Z', token: 't' }),
    );
    const r = await vigil(['--sources', 'kev', '--mirror', `kev=${base}/kev.json`]);
    await rm(lock);
    expect(r.code).toBe(8);
    expect(r.stderr).toBe(
      `vigil: ENG_DB_LOCKED: ${join(dir, 'vigil.db')} is being updated by process ${process.pid} on ${hostname()} since 2026-01-01T00:00:00Z (lock file ${lock})\n`,
    );
  });
});
