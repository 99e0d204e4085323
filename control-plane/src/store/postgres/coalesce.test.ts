import { describe, expect, it } from 'vitest';
import { coalescedLookup } from './coalesce.js';

/** A lookup over `data` (group → key → value) that records each batch it was asked to load. */
function recorded(data: Record<string, Record<string, string>>, failGroup?: string, maxBatch?: number) {
  const batches: Array<[string, string[]]> = [];
  const lookup = coalescedLookup<string>(async (group, keys) => {
    batches.push([group, keys]);
    if (group === failGroup) throw new Error(`no ${group}`);
    const values = data[group] ?? {};
    return new Map(keys.flatMap((k) => (k in values ? [[k, values[k]!] as const] : [])));
  }, maxBatch);
  return { batches, lookup };
}

const settle = (promises: Array<Promise<unknown>>) =>
  Promise.all(
    promises.map((p) =>
      p.then(
        (value) => ({ value }),
        (error: Error) => ({ error: error.message }),
      ),
    ),
  );

describe('coalescedLookup', () => {
  it('loads the keys of one turn per group once, and each later turn on its own', async () => {
    const { batches, lookup } = recorded({ a: { x: 'ax', y: 'ay' }, b: { x: 'bx' } });
    const first = await settle([
      lookup('a', 'x'),
      lookup('b', 'x'),
      lookup('a', 'y'),
      lookup('a', 'x'),
      lookup('b', 'y'),
    ]);
    const second = await settle([lookup('a', 'y')]);
    expect({ first, second, batches }).toEqual({
      first: [{ value: 'ax' }, { value: 'bx' }, { value: 'ay' }, { value: 'ax' }, { value: undefined }],
      second: [{ value: 'ay' }],
      batches: [
        ['a', ['x', 'y']],
        ['b', ['x', 'y']],
        ['a', ['y']],
      ],
    });
  });

  it('splits a turn into batches of at most maxBatch keys', async () => {
    const { batches, lookup } = recorded({ a: { k1: '1', k5: '5' } }, undefined, 2);
    const got = await settle(['k1', 'k2', 'k3', 'k4', 'k5'].map((k) => lookup('a', k)));
    expect({ got, batches }).toEqual({
      got: [{ value: '1' }, { value: undefined }, { value: undefined }, { value: undefined }, { value: '5' }],
      batches: [
        ['a', ['k1', 'k2']],
        ['a', ['k3', 'k4']],
        ['a', ['k5']],
      ],
    });
  });

  it("rejects the callers of a failed batch only, with the batch's error", async () => {
    const { lookup } = recorded({ ok: { x: 'okx' } }, 'bad');
    const got = await settle([lookup('bad', 'x'), lookup('ok', 'x'), lookup('bad', 'y')]);
    // and the lookup keeps working after a failure
    const after = await settle([lookup('ok', 'x')]);
    expect({ got, after }).toEqual({
      got: [{ error: 'no bad' }, { value: 'okx' }, { error: 'no bad' }],
      after: [{ value: 'okx' }],
    });
  });
});
