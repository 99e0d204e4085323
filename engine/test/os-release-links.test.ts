/**
 * Scenario: /etc/os-release as a symlink. Debian-like images link it to ../usr/lib/os-release;
 * a link whose target climbs above the root (`../../../../…`) or is absolute must resolve inside
 * the image (chroot semantics), never on the scanning host. Every case is scanned as an image
 * (umoci layers → docker-archive) and as an unpacked root filesystem placed so deep that the
 * link, followed on the host, would reach the host's own /etc or /usr/lib: the host here is
 * Debian 12, the images say Ubuntu 22.04 or Alpine 3.19.1, so a host read shows in the result.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOciLayout,
  makeTempDir,
  removeTemp,
  toDockerArchive,
  type BuildOptions,
  type FileTree,
} from '../../test/harness/images.js';
import { scanImage } from '../src/scan/scan-image.js';
import { writeFileTree } from './support/tree.js';

const DEBIAN =
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';
const UBUNTU =
  'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n';
const ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n';

interface Case {
  name: string;
  /** builds the layers; `up` is `../` repeated enough to reach the host root from <rootfs>/etc */
  image: (up: string) => BuildOptions;
  expected: { family: string; version: string } | undefined;
}

const CASES: Case[] = [
  {
    name: 'debian-like: etc/os-release -> ../usr/lib/os-release',
    image: () => ({
      files: {
        'usr/lib/os-release': DEBIAN,
        'etc/os-release': { symlink: '../usr/lib/os-release' },
        'etc/debian_version': '12.5\n',
      },
    }),
    // debian_version refines VERSION_ID 12
    expected: { family: 'debian', version: '12.5' },
  },
  {
    name: 'an upper layer replaces a regular etc/os-release with a link',
    image: () => ({
      files: { 'etc/os-release': ALPINE },
      layers: [
        { files: { 'usr/lib/os-release': UBUNTU, 'etc/os-release': { symlink: '../usr/lib/os-release' } } },
      ],
    }),
    expected: { family: 'ubuntu', version: '22.04' },
  },
  {
    name: 'a relative link climbing above the root lands on the image root',
    image: (up) => ({
      files: { 'usr/lib/os-release': UBUNTU, 'etc/os-release': { symlink: `${up}usr/lib/os-release` } },
    }),
    expected: { family: 'ubuntu', version: '22.04' },
  },
  {
    name: 'an absolute link is taken from the image root',
    image: () => ({
      files: { 'usr/lib/os-release': UBUNTU, 'etc/os-release': { symlink: '/usr/lib/os-release' } },
    }),
    expected: { family: 'ubuntu', version: '22.04' },
  },
  {
    // inside the image the target is the link itself (a loop): only usr/lib/os-release names the OS
    name: 'etc/os-release -> ../../../../etc/os-release names itself inside the image',
    image: (up) => ({
      files: { 'usr/lib/os-release': ALPINE, 'etc/os-release': { symlink: `${up}etc/os-release` } },
    }),
    expected: { family: 'alpine', version: '3.19.1' },
  },
  {
    name: 'a link loop with no release file gives no OS and no hang',
    image: () => ({
      files: {
        'etc/os-release': { symlink: '../usr/lib/os-release' },
        'usr/lib/os-release': { symlink: '../../etc/os-release' },
      },
    }),
    expected: undefined,
  },
];

function treeOf(spec: BuildOptions): FileTree {
  const tree: FileTree = { ...spec.files };
  for (const layer of spec.layers ?? []) Object.assign(tree, layer.files);
  return tree;
}

describe('os-release symlinks resolve inside the image', () => {
  const temps: string[] = [];
  let rootfsParent = '';
  let up = '';
  beforeAll(async () => {
    rootfsParent = await makeTempDir();
    temps.push(rootfsParent);
    // from <rootfsParent>/<case>/etc, this many `..` reach the host's `/`
    up = '../'.repeat(rootfsParent.split('/').filter(Boolean).length + 2);
    expect(resolve(rootfsParent, 'r1', 'etc', up, 'etc/os-release')).toBe('/etc/os-release');
  });
  afterAll(() => removeTemp(...temps));

  it.each(CASES)('$name', async ({ image, expected }) => {
    const spec = image(up);
    const layout = await buildOciLayout(spec);
    temps.push(layout);
    const fromImage = await scanImage({ input: await toDockerArchive(layout) });

    const rootfs = join(rootfsParent, `r${temps.length}`);
    await mkdir(rootfs);
    await writeFileTree(rootfs, treeOf(spec));
    const fromDir = await scanImage({ dir: rootfs, mode: 'rootfs' });

    const view = (s: typeof fromImage) => ({
      os: s.os ? { family: s.os.family, version: s.os.version } : undefined,
      unknowns: s.unknowns,
      status: s.status,
    });
    const want = { os: expected, unknowns: [], status: 'succeeded' };
    expect({ image: view(fromImage), dir: view(fromDir) }).toEqual({ image: want, dir: want });
  });
});
