/**
 * Scenario: a file that an OS package owns is not reported again as a language package. The
 * dpkg database below installs python3-foo, whose info/python3-foo.list names the METADATA of
 * foo-1.2.3.dist-info, and python3-qux, whose .list names the single-file qux-2.0.egg-info.
 * bar (pip-installed in usr/local) and baz (added by a later layer into the same dist-packages
 * directory as foo) are in no .list file, so they are reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOciLayout,
  makeTempDir,
  removeTemp,
  toDockerArchive,
  type FileTree,
} from '../../test/harness/images.js';
import { scanImage } from '../src/scan/scan-image.js';
import { normalizeScan } from './support/inventory.js';
import { writeFileTree } from './support/tree.js';

const DIST = 'usr/lib/python3/dist-packages';
const metadata = (name: string, version: string) =>
  `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;

const STATUS = `Package: python3-foo
Status: install ok installed
Priority: optional
Section: python
Installed-Size: 40
Maintainer: Vigil Tests <tests@example.org>
Architecture: all
Source: foo
Version: 1.2.3-1
Depends: python3:any
Description: foo for Python 3

Package: python3-qux
Status: install ok installed
Architecture: all
Source: qux (2.0-1)
Version: 2.0-1+b1
Maintainer: Vigil Tests <tests@example.org>
Description: qux for Python 3
`;

// dpkg writes one absolute path per line, directories included (dpkg(1), /var/lib/dpkg/info/*.list)
const FOO_LIST =
  [
    '/.',
    '/usr',
    '/usr/lib',
    '/usr/lib/python3',
    `/${DIST}`,
    `/${DIST}/foo`,
    `/${DIST}/foo/__init__.py`,
    `/${DIST}/foo-1.2.3.dist-info`,
    `/${DIST}/foo-1.2.3.dist-info/METADATA`,
    `/${DIST}/foo-1.2.3.dist-info/RECORD`,
  ].join('\n') + '\n';
const QUX_LIST = ['/.', '/usr', `/${DIST}`, `/${DIST}/qux-2.0.egg-info`, `/${DIST}/qux.py`].join('\n') + '\n';

const BASE: FileTree = {
  'etc/os-release':
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
  'etc/debian_version': '12.5\n',
  'var/lib/dpkg/status': STATUS,
  'var/lib/dpkg/info/python3-foo.list': FOO_LIST,
  'var/lib/dpkg/info/python3-qux.list': QUX_LIST,
  [`${DIST}/foo/__init__.py`]: '',
  [`${DIST}/foo-1.2.3.dist-info/METADATA`]: metadata('foo', '1.2.3'),
  [`${DIST}/foo-1.2.3.dist-info/RECORD`]: '',
  [`${DIST}/qux-2.0.egg-info`]: metadata('qux', '2.0'),
  [`${DIST}/qux.py`]: '',
  'usr/local/lib/python3.11/dist-packages/bar-0.5.0.dist-info/METADATA': metadata('bar', '0.5.0'),
};
const LAYER_1: FileTree = { [`${DIST}/baz-3.1.dist-info/METADATA`]: metadata('baz', '3.1') };

const EXPECTED_PACKAGES = [
  {
    ecosystem: 'deb',
    name: 'python3-foo',
    version: '1.2.3-1',
    srcName: 'foo',
    path: 'var/lib/dpkg/status',
    layer: 0,
  },
  {
    ecosystem: 'deb',
    name: 'python3-qux',
    version: '2.0-1+b1',
    srcName: 'qux',
    path: 'var/lib/dpkg/status',
    layer: 0,
  },
  {
    ecosystem: 'pypi',
    name: 'bar',
    version: '0.5.0',
    path: 'usr/local/lib/python3.11/dist-packages/bar-0.5.0.dist-info/METADATA',
    layer: 0,
  },
  { ecosystem: 'pypi', name: 'baz', version: '3.1', path: `${DIST}/baz-3.1.dist-info/METADATA`, layer: 1 },
];

describe('language packages owned by dpkg packages', () => {
  let layout = '';
  let rootfs = '';
  beforeAll(async () => {
    layout = await buildOciLayout({ files: BASE, layers: [{ files: LAYER_1 }] });
    rootfs = await makeTempDir();
    await writeFileTree(rootfs, { ...BASE, ...LAYER_1 });
  });
  afterAll(() => removeTemp(layout, rootfs));

  it('drops the python packages a .list names and keeps the unlisted ones (image)', async () => {
    const scan = await scanImage({ input: await toDockerArchive(layout) });
    expect(normalizeScan(scan)).toEqual({
      os: { family: 'debian', version: '12.5' },
      packages: EXPECTED_PACKAGES,
      unknowns: [],
      status: 'succeeded',
    });
  });

  it('does the same on the unpacked root filesystem', async () => {
    const scan = await scanImage({ dir: rootfs, mode: 'rootfs' });
    expect(normalizeScan(scan)).toEqual({
      os: { family: 'debian', version: '12.5' },
      packages: EXPECTED_PACKAGES.map(({ layer: _layer, ...p }) => p),
      unknowns: [],
      status: 'succeeded',
    });
    // srcVersion from `Source: qux (2.0-1)`, the binary's own version when Source has none
    expect(scan.packages.filter((p) => p.ecosystem === 'deb').map((p) => [p.name, p.srcVersion])).toEqual([
      ['python3-foo', '1.2.3-1'],
      ['python3-qux', '2.0-1'],
    ]);
  });
});
