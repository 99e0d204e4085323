/**
 * Scenario: a real Debian bookworm root filesystem (test/harness/debian.ts, debootstrap, built
 * once and cached) as a one-layer docker-archive, pushed with skopeo to a real distribution
 * registry behind htpasswd auth. Pulling it by reference with credentials and reading the
 * archive must give identical inventories; the deb packages must be exactly what the real
 * `dpkg-query --admindir <rootfs>/var/lib/dpkg -W` lists; every Python metadata file in the
 * rootfs is listed in some dpkg info/*.list (Debian ships them), so no PyPI package is reported.
 * Then a two-platform OCI index in the same registry, scanned with `--platform linux/arm64`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanResult } from '../../engine/src/model/index.js';
import { scanImage } from '../../engine/src/scan/scan-image.js';
import { nameVersions, normalizeScan } from '../../engine/test/support/inventory.js';
import { debianRootfs } from '../harness/debian.js';
import { writeDockerArchive } from '../harness/docker-archive-writer.js';
import { makeTempDir, removeTemp } from '../harness/images.js';
import { buildMultiPlatformLayout, pushOciLayout, type MultiPlatformLayout } from '../harness/oci-image.js';
import { run } from '../harness/process.js';
import { startRegistry, type RegistryHandle } from '../harness/registry.js';
import { runVigil } from '../support/cli.js';

/** Python distribution metadata files (PyPA core metadata: dist-info, egg-info file or dir). */
const PY_METADATA = /(?:^|\/)(?:[^/]+\.dist-info\/METADATA|[^/]+\.egg-info\/PKG-INFO|[^/]+\.egg-info)$/;

describe('Debian image: docker-archive vs the same image pulled from an htpasswd registry', () => {
  let work = '';
  let registry: RegistryHandle;
  let archive = '';
  let fromArchive: ScanResult;
  let fromRegistry: ScanResult;
  let oracle: { dpkg: string[]; unownedPython: string[]; pythonFiles: number; debianVersion: string };
  const ref = () => `${registry.host}/vigil/debian:12`;

  beforeAll(async () => {
    const rootfsTar = await debianRootfs();
    work = await makeTempDir();
    registry = await startRegistry({ auth: 'htpasswd', users: { scanner: 's3cret-pass' } });
    archive = join(work, 'debian.tar');
    await writeDockerArchive({
      out: archive,
      layers: [{ tar: rootfsTar, createdBy: 'debootstrap --variant=minbase bookworm' }],
      compression: { gzipLevel: 1 },
      repoTag: 'vigil-test/debian:12',
    });
    await run('skopeo', [
      'copy',
      '--insecure-policy',
      '--quiet',
      '--dest-tls-verify=false',
      '--dest-creds',
      'scanner:s3cret-pass',
      `docker-archive:${archive}`,
      `docker://${ref()}`,
    ]);

    // oracles, from the unpacked rootfs with the real tools
    const rootfs = join(work, 'rootfs');
    await mkdir(rootfs);
    execFileSync('tar', ['-xf', rootfsTar, '-C', rootfs, 'var/lib/dpkg', 'etc/debian_version']);
    const admindir = join(rootfs, 'var/lib/dpkg');
    const dpkg = execFileSync(
      'dpkg-query',
      ['--admindir', admindir, '-W', '-f', '${Package} ${Version}\\n'],
      {
        encoding: 'utf8',
      },
    );
    const listed = new Set<string>();
    for (const name of await readdir(join(admindir, 'info'))) {
      if (!name.endsWith('.list')) continue;
      for (const line of (await readFile(join(admindir, 'info', name), 'utf8')).split('\n')) listed.add(line);
    }
    const entries = execFileSync('tar', ['-tf', rootfsTar], { encoding: 'utf8', maxBuffer: 64 << 20 }).split(
      '\n',
    );
    const pythonFiles = entries.filter((e) => PY_METADATA.test(e)); // directories end in '/', so never match
    oracle = {
      dpkg: dpkg.split('\n').filter(Boolean).sort(),
      unownedPython: pythonFiles.filter((f) => !listed.has(`/${f}`)),
      pythonFiles: pythonFiles.length,
      debianVersion: (await readFile(join(rootfs, 'etc/debian_version'), 'utf8')).trim(),
    };

    const credentials = {
      insecureRegistries: [registry.host],
      auth: { username: 'scanner', password: 's3cret-pass' },
    };
    [fromArchive, fromRegistry] = await Promise.all([
      scanImage({ input: archive }),
      scanImage({ ref: ref() }, { registry: credentials }),
    ]);
  });
  afterAll(async () => {
    await registry?.stop();
    await removeTemp(work);
  });

  it('gives identical inventories from the archive and from the registry', () => {
    expect(normalizeScan(fromRegistry)).toEqual(normalizeScan(fromArchive));
    expect(fromRegistry.artifact.layers?.map((l) => l.diffId)).toEqual(
      fromArchive.artifact.layers?.map((l) => l.diffId),
    );
    expect({
      kinds: [fromArchive.artifact.kind, fromRegistry.artifact.kind],
      tags: fromRegistry.artifact.repoTags,
    }).toEqual({
      kinds: ['docker-archive', 'registry'],
      tags: [`${registry.host}/vigil/debian:12`],
    });
  });

  it('lists exactly the packages dpkg-query lists, no PyPI package, os debian 12.x', () => {
    expect(oracle.dpkg.length).toBeGreaterThan(80);
    expect(oracle.pythonFiles).toBeGreaterThanOrEqual(10); // the python3-* packages debian.ts adds
    expect(oracle.debianVersion).toMatch(/^12\.\d+$/);
    const normal = normalizeScan(fromRegistry);
    expect({
      os: normal.os,
      ecosystems: [...new Set(normal.packages.map((p) => p.ecosystem))],
      deb: nameVersions(fromRegistry, 'deb'),
      pypi: nameVersions(fromRegistry, 'pypi'),
      paths: [...new Set(normal.packages.map((p) => `${p.path} ${p.layer}`))],
      unknowns: normal.unknowns,
      status: normal.status,
    }).toEqual({
      os: { family: 'debian', version: oracle.debianVersion },
      ecosystems: ['deb'],
      deb: oracle.dpkg,
      pypi: oracle.unownedPython,
      paths: ['var/lib/dpkg/status 0'],
      unknowns: [],
      status: 'succeeded',
    });
    expect(oracle.unownedPython).toEqual([]);
  });

  it('refuses an anonymous pull and a wrong password with ENG_REGISTRY_UNAUTHORIZED', async () => {
    const insecure = { insecureRegistries: [registry.host] };
    await expect(scanImage({ ref: ref() }, { registry: insecure })).rejects.toMatchObject({
      code: 'ENG_REGISTRY_UNAUTHORIZED',
    });
    await expect(
      scanImage(
        { ref: ref() },
        { registry: { ...insecure, auth: { username: 'scanner', password: 'nope' } } },
      ),
    ).rejects.toMatchObject({ code: 'ENG_REGISTRY_UNAUTHORIZED' });
  });

  describe('multi-arch index', () => {
    let layout: MultiPlatformLayout;
    const apk = (arch: string, extra = '') =>
      `P:musl\nV:1.2.4_git20230717-r4\nA:${arch}\no:musl\n\nP:busybox\nV:1.36.1-r15\nA:${arch}\no:busybox\n${extra}`;
    const osRelease = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n';

    beforeAll(async () => {
      layout = await buildMultiPlatformLayout(
        [
          {
            tag: 'amd64',
            platform: { os: 'linux', architecture: 'amd64' },
            files: { 'etc/os-release': osRelease, 'lib/apk/db/installed': apk('x86_64') },
          },
          {
            tag: 'arm64',
            platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
            // the arm64 image alone has raspberrypi-bootloader, so a wrong pick shows
            files: {
              'etc/os-release': osRelease,
              'lib/apk/db/installed': apk(
                'aarch64',
                '\nP:raspberrypi-bootloader\nV:1.20230317-r0\nA:aarch64\no:raspberrypi\n',
              ),
            },
          },
        ],
        { tag: 'multi', of: ['amd64', 'arm64'] },
      );
      await pushOciLayout({
        layout: layout.dir,
        tag: 'multi',
        registryHost: registry.host,
        destination: 'vigil/multi:1',
        credentials: { username: 'scanner', password: 's3cret-pass' },
        all: true,
      });
    });
    afterAll(() => removeTemp(layout.dir));

    it('vigil image --platform linux/arm64 picks the arm64 image; the default is amd64', async () => {
      const args = (platform: string[]) => [
        'image',
        `${registry.host}/vigil/multi:1`,
        ...platform,
        '--insecure',
        '--username',
        'scanner',
        '--password',
        's3cret-pass',
        '-f',
        'json',
        '--no-cache',
        '-q',
      ];
      const view = async (platform: string[]) => {
        const r = await runVigil(args(platform));
        const report = JSON.parse(r.stdout || '{}') as {
          artifact?: { digest?: string; os?: unknown };
          packages?: { name: string; purl: string }[];
        };
        return {
          code: r.code,
          stderr: r.stderr,
          digest: report.artifact?.digest,
          purls: report.packages?.map((p) => p.purl),
        };
      };
      const [arm, amd] = await Promise.all([view(['--platform', 'linux/arm64']), view([])]);
      const purl = (name: string, version: string, arch: string, upstream = '') =>
        `pkg:apk/alpine/${name}@${version}?arch=${arch}&distro=alpine-3.19.1${upstream ? `&upstream=${upstream}` : ''}`;
      expect({ arm, amd }).toEqual({
        arm: {
          code: 0,
          stderr: '',
          digest: layout.images.arm64!.manifestDigest,
          purls: [
            purl('busybox', '1.36.1-r15', 'aarch64'),
            purl('musl', '1.2.4_git20230717-r4', 'aarch64'),
            purl('raspberrypi-bootloader', '1.20230317-r0', 'aarch64', 'raspberrypi'),
          ],
        },
        amd: {
          code: 0,
          stderr: '',
          digest: layout.images.amd64!.manifestDigest,
          purls: [purl('busybox', '1.36.1-r15', 'x86_64'), purl('musl', '1.2.4_git20230717-r4', 'x86_64')],
        },
      });
    });
  });
});
