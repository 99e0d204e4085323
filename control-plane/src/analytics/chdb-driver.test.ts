import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createChdbDriver } from './chdb-driver.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-analytics-chdb-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('drivers on one path share the session; another path waits until the last is closed', async () => {
  const a1 = await createChdbDriver(join(dir, 'a'));
  const a2 = await createChdbDriver(join(dir, 'a', '..', 'a'));
  await a1.exec('CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x');
  await a1.insert('t', [{ x: 1 }, { x: 2 }]);
  const refused = await createChdbDriver(join(dir, 'b')).catch((e: unknown) => e);
  const refusedTemp = await createChdbDriver().catch((e: unknown) => e);
  await a1.close();
  const stillOpen = await a2.query('SELECT x FROM t ORDER BY x');
  const afterClose = await a1.query('SELECT 1').catch((e: unknown) => e);
  await a1.close(); // idempotent
  await a2.close();
  const b = await createChdbDriver(join(dir, 'b'));
  const fresh = await b.query(
    "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 't'",
  );
  await b.close();

  expect({ refused, refusedTemp, stillOpen, afterClose, fresh }).toEqual({
    refused: expect.objectContaining({
      code: 'CP_ANALYTICS_UNAVAILABLE',
      message: `chdb already has ${join(dir, 'a')} open in this process and holds one data directory at a time; cannot open ${join(dir, 'b')}`,
    }),
    refusedTemp: expect.objectContaining({ code: 'CP_ANALYTICS_UNAVAILABLE' }),
    stillOpen: [{ x: 1 }, { x: 2 }],
    afterClose: expect.objectContaining({
      code: 'CP_ANALYTICS_UNAVAILABLE',
      message: 'the analytics store (chdb) is closed',
    }),
    fresh: [{ n: 0 }],
  });
});

it('queries run off the event loop, concurrently', async () => {
  const d = await createChdbDriver(join(dir, 'c'));
  try {
    let loopRan = false;
    const heavy = d.query('SELECT max(sipHash64(number)) AS m FROM numbers(30000000)');
    setImmediate(() => (loopRan = true));
    await heavy;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => d.query<{ v: number }>('SELECT {i:UInt32} * 2 AS v', { i })),
    );
    expect({ loopRan, results }).toEqual({ loopRan: true, results: results.map((_, i) => [{ v: i * 2 }]) });
  } finally {
    await d.close();
  }
});

it('errors are classified', async () => {
  const d = await createChdbDriver(join(dir, 'c'));
  try {
    const errors = await Promise.all([
      d.query('SELEC 1').catch((e: unknown) => e),
      d.query('SELECT * FROM no_such_table').catch((e: unknown) => e),
      d.query('SELECT {n:UInt8} AS n', { n: 'not a number' }).catch((e: unknown) => e),
      d.insert('no_such_table', [{ x: 1 }]).catch((e: unknown) => e),
    ]);
    expect(errors.map((e) => [(e as { code: string }).code, (e as Error).message.split(':')[0]])).toEqual([
      ['CP_ANALYTICS_ERROR', 'analytics store error (SELEC 1)'],
      ['CP_ANALYTICS_ERROR', 'analytics store error (SELECT * FROM no_such_table)'],
      ['CP_ANALYTICS_ERROR', 'analytics store error (SELECT {n'],
      ['CP_ANALYTICS_ERROR', 'analytics store error (insert into no_such_table)'],
    ]);
  } finally {
    await d.close();
  }
});
