import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageListQuery, ImageRecord, MetadataStores } from '../../services/types.js';
import { pgImageStore } from './images.js';
import { pgStores } from './index.js';
import type { SqlDatabase } from './sql.js';
import { recordingDatabase } from './testdata/recording-database.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

let scratch: ScratchDatabase;
let db: SqlDatabase;
let stores: MetadataStores;

beforeAll(async () => {
  ({ scratch, db } = await createMigratedDatabase());
  stores = pgStores(db);
});
afterAll(() => scratch?.drop());

/** A well-formed digest derived from a label, so tests can name images by label. */
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;
let orgCount = 0;
const newOrg = async (): Promise<string> =>
  (await stores.orgs.createOrg({ slug: `images-${++orgCount}`, name: 'Images' })).id;

async function listAll(orgId: string, query: ImageListQuery): Promise<ImageRecord[]> {
  const all: ImageRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await stores.images.listImages(orgId, { ...query, cursor });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

describe('upsertImage', () => {
  it('creates, merges tags, and moves a tag to the digest that now carries it', async () => {
    const org = await newOrg();
    const first = await stores.images.upsertImage(org, {
      repository: 'docker.io/library/alpine',
      digest: digest('a1'),
      tags: ['latest', '3.19'],
    });
    const again = await stores.images.upsertImage(org, {
      repository: 'docker.io/library/alpine',
      digest: digest('a1'),
      tags: ['stable'],
    });
    const moved = await stores.images.upsertImage(org, {
      repository: 'docker.io/library/alpine',
      digest: digest('a2'),
      tags: ['latest'],
    });
    expect({
      first: first.created,
      again: { created: again.created, sameId: again.image.id === first.image.id, tags: again.image.tags },
      moved: {
        created: moved.created,
        tags: moved.image.tags,
        sameRepository: moved.image.repositoryId === first.image.repositoryId,
      },
      old: (await stores.images.getImage(org, first.image.id))?.tags,
      record: first.image,
    }).toEqual({
      first: true,
      again: { created: false, sameId: true, tags: ['3.19', 'latest', 'stable'] },
      moved: { created: true, tags: ['latest'], sameRepository: true },
      old: ['3.19', 'stable'],
      record: {
        id: first.image.id,
        orgId: org,
        repositoryId: first.image.repositoryId,
        repository: 'docker.io/library/alpine',
        digest: digest('a1'),
        tags: ['3.19', 'latest'],
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
        lastScanId: null,
        lastCompletedScanId: null,
        lastCompletedAt: null,
        summary: null,
      },
    });
  });

  it.each([
    [{ repository: 'alpine', digest: 'sha256' }],
    [{ repository: 'alpine', digest: 'SHA256:abc' }],
    [{ repository: 'alpine', digest: digest('x'), tags: ['-bad'] }],
    [{ repository: 'alpine', digest: digest('x'), tags: ['a'.repeat(129)] }],
    [{ repository: 'Library/Alpine', digest: digest('x') }],
    [{ repository: '', digest: digest('x') }],
  ])('refuses %j', async (input) => {
    const org = await newOrg();
    await expect(stores.images.upsertImage(org, input)).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });
});

describe('listImages', () => {
  it('sorts by name (repository, then digest) both ways and filters by repository and text', async () => {
    const org = await newOrg();
    const put = (repository: string, label: string, tags: string[] = []) =>
      stores.images.upsertImage(org, { repository, digest: digest(label), tags }).then((r) => r.image);
    const debian = await put('debian', 'd1', ['bookworm']);
    const alpine = await put('alpine', 'a1', ['3.19']);
    const busybox = await put('busybox', 'b1', ['1_0']);
    const alpine2 = await put('alpine', 'a2', ['3.20']);
    // within alpine, digests order the two images
    const alpines = [alpine, alpine2].sort((x, y) => (x.digest < y.digest ? -1 : 1));
    const names = (items: ImageRecord[]) => items.map((i) => `${i.repository}@${i.digest.slice(7, 11)}`);
    const short = (i: ImageRecord) => `${i.repository}@${i.digest.slice(7, 11)}`;
    expect({
      asc: names(await listAll(org, { sort: 'name', limit: 1 })),
      desc: names(await listAll(org, { sort: 'name', order: 'desc', limit: 3 })),
      repository: names((await stores.images.listImages(org, { repositoryId: alpine.repositoryId })).items),
      tagText: names((await stores.images.listImages(org, { text: 'BOOK' })).items),
      repoText: names((await stores.images.listImages(org, { text: 'usy' })).items),
      digestText: names((await stores.images.listImages(org, { text: debian.digest.slice(0, 20) })).items),
      // % and _ are literal characters in the text filter, not wildcards
      underscore: names((await stores.images.listImages(org, { text: '1_0' })).items),
      underscoreWildcard: names((await stores.images.listImages(org, { text: 'b_sybox' })).items),
      percentWildcard: names((await stores.images.listImages(org, { text: '%' })).items),
    }).toEqual({
      asc: [...alpines.map(short), short(busybox), short(debian)],
      desc: [short(debian), short(busybox), ...alpines.map(short).reverse()],
      repository: alpines.map(short),
      tagText: [short(debian)],
      repoText: [short(busybox)],
      digestText: [short(debian)],
      underscore: [short(busybox)],
      underscoreWildcard: [],
      percentWildcard: [],
    });
  });

  it('sorts by last completed scan, newest first, never-scanned last', async () => {
    const org = await newOrg();
    const images = [];
    for (const label of ['s1', 's2', 's3', 's4']) {
      images.push((await stores.images.upsertImage(org, { repository: 'app', digest: digest(label) })).image);
    }
    const [s1, s2, s3, s4] = images as [ImageRecord, ImageRecord, ImageRecord, ImageRecord];
    for (const img of [s2, s1]) {
      const { scan } = await stores.scans.createScan(org, {
        imageId: img.id,
        dbVersion: 'v1',
        priority: 'manual',
      });
      const running = await stores.scans.transitionScan(org, scan.id, { to: 'running' });
      await stores.scans.transitionScan(org, scan.id, { to: 'completed', attempt: running.attempt });
    }
    const never = [s3, s4].sort((x, y) => (x.id < y.id ? 1 : -1)); // ties on "never" fall back to id, descending
    const ids = (items: ImageRecord[]) => items.map((i) => i.id);
    expect({
      desc: ids(await listAll(org, { sort: 'lastScan', limit: 1 })),
      asc: ids(await listAll(org, { sort: 'lastScan', order: 'asc', limit: 3 })),
    }).toEqual({
      desc: [s1.id, s2.id, ...ids(never)],
      asc: [...ids(never).reverse(), s2.id, s1.id],
    });
  });

  it('pages stably while images are inserted: no image twice, none of the first ones skipped', async () => {
    const org = await newOrg();
    const original = new Set<string>();
    for (let n = 0; n < 25; n++) {
      original.add(
        (await stores.images.upsertImage(org, { repository: 'mid', digest: digest(`p${n}`) })).image.id,
      );
    }
    const seen: string[] = [];
    const insertedAfter = new Set<string>();
    let page = await stores.images.listImages(org, { limit: 7 });
    for (let round = 0; ; round++) {
      seen.push(...page.items.map((i) => i.id));
      if (!page.nextCursor) break;
      // inserts before the cursor (repository 'aaa'), after it ('zzz'), and into the page range ('mid')
      await stores.images.upsertImage(org, { repository: 'aaa', digest: digest(`before${round}`) });
      insertedAfter.add(
        (await stores.images.upsertImage(org, { repository: 'zzz', digest: digest(`after${round}`) })).image
          .id,
      );
      await stores.images.upsertImage(org, { repository: 'mid', digest: digest(`mid${round}`) });
      page = await stores.images.listImages(org, { limit: 7, cursor: page.nextCursor });
    }
    expect({
      duplicates: seen.length - new Set(seen).size,
      missingOriginals: [...original].filter((id) => !seen.includes(id)),
      missingAfter: [...insertedAfter].filter((id) => !seen.includes(id)),
    }).toEqual({ duplicates: 0, missingOriginals: [], missingAfter: [] });
  });

  it('rejects foreign or malformed cursors, unknown sorts and limits out of range', async () => {
    const org = await newOrg();
    for (const label of ['c1', 'c2'])
      await stores.images.upsertImage(org, { repository: 'app', digest: digest(label) });
    const { nextCursor } = await stores.images.listImages(org, { sort: 'name', limit: 1 });
    const attempts: Array<[string, ImageListQuery]> = [
      ['other sort', { sort: 'lastScan', cursor: nextCursor }],
      ['other order', { sort: 'name', order: 'desc', cursor: nextCursor }],
      ['garbage', { cursor: 'not-a-cursor' }],
      [
        'bad key',
        {
          sort: 'lastScan',
          cursor: Buffer.from(JSON.stringify(['lastScan:desc', 'yesterday', 'x'])).toString('base64url'),
        },
      ],
      ['sort', { sort: 'risk' as 'name' }],
      ['order', { order: 'up' as 'asc' }],
      ['limit 0', { limit: 0 }],
      ['limit 1001', { limit: 1001 }],
    ];
    const codes = await Promise.all(
      attempts.map(([name, q]) =>
        stores.images.listImages(org, q).then(
          () => [name, 'ok'],
          (e: { code: string }) => [name, e.code],
        ),
      ),
    );
    expect(codes).toEqual([
      ['other sort', 'CP_CURSOR_INVALID'],
      ['other order', 'CP_CURSOR_INVALID'],
      ['garbage', 'CP_CURSOR_INVALID'],
      ['bad key', 'CP_INVALID_ARGUMENT'],
      ['sort', 'CP_INVALID_ARGUMENT'],
      ['order', 'CP_INVALID_ARGUMENT'],
      ['limit 0', 'CP_INVALID_ARGUMENT'],
      ['limit 1001', 'CP_INVALID_ARGUMENT'],
    ]);
  });
});

describe('getImage', () => {
  it('reads the images asked for in one turn with one statement per organisation, each scoped to its own', async () => {
    const [a, b] = [await newOrg(), await newOrg()];
    const add = async (org: string, label: string) =>
      (await stores.images.upsertImage(org, { repository: 'registry.test/app', digest: digest(label) }))
        .image;
    const [a1, a2, b1] = [await add(a, 'g1'), await add(a, 'g2'), await add(b, 'g3')];
    const recorded = recordingDatabase(db);
    const { statements } = recorded;
    const images = pgImageStore(recorded.db);
    const burst = await Promise.all([
      images.getImage(a, a1.id),
      images.getImage(b, a2.id), // another organisation's image: not found
      images.getImage(a, a2.id),
      images.getImage(b, b1.id),
      images.getImage(a, a1.id),
      images.getImage(a, '00000000-0000-4000-8000-000000000000'),
    ]);
    const upperCase = await images.getImage(a, a2.id.toUpperCase()); // Postgres reads it; it goes alone
    expect({
      ids: burst.map((image) => image?.id ?? null),
      upperCase: upperCase?.id,
      records: burst[0],
      statements,
    }).toEqual({
      ids: [a1.id, null, a2.id, b1.id, a1.id, null],
      upperCase: a2.id,
      records: a1,
      statements: [
        'SELECT … FROM images i WHERE i.org_id = $1 AND i.id = ANY ($2::uuid[])',
        'SELECT … FROM images i WHERE i.org_id = $1 AND i.id = ANY ($2::uuid[])',
        'SELECT … FROM images i WHERE i.org_id = $1 AND i.id = $2',
      ],
    });
  });
});
