import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PACKAGES, aptMirror, debianRootfs } from './debian.js';

const canBuild = process.getuid?.() === 0 && existsSync('/usr/sbin/debootstrap');

// Builds the rootfs on first use (about 2-3 minutes, then cached in $VIGIL_TEST_CACHE or /var/cache/vigil-test).
describe.skipIf(!canBuild)('debianRootfs (debootstrap bookworm minbase)', () => {
  it(
    'returns one cached tar of a real bookworm rootfs with the python3 packages and their metadata',
    { timeout: 600_000 },
    async () => {
      const [first, second] = await Promise.all([debianRootfs(), debianRootfs()]);
      expect(second).toBe(first);

      const listing = execFileSync('tar', ['-tvf', first, '--numeric-owner'], { maxBuffer: 64 << 20 })
        .toString()
        .trim()
        .split('\n');
      const names = listing.map((l) =>
        l
          .split(/\s+/)
          .slice(5)
          .join(' ')
          .replace(/ -> .*$/, ''),
      );
      const owners = new Set(listing.map((l) => l.split(/\s+/)[1]));
      const status = execFileSync('tar', ['-xOf', first, 'var/lib/dpkg/status'], {
        maxBuffer: 64 << 20,
      }).toString();
      const installed = status
        .split('\n\n')
        .filter((stanza) => /^Status: install ok installed$/m.test(stanza))
        .map((stanza) => /^Package: (\S+)$/m.exec(stanza)?.[1]);
      const metadataDirs = names
        .filter((n) => /^usr\/lib\/python3\/dist-packages\/[^/]+\.(dist|egg)-info\/$/.test(n))
        .map((n) => n.split('/')[4]);

      expect({
        // docker-save style names: no "./" prefix, no absolute paths, no device nodes under dev/
        badNames: names.filter((n) => n.startsWith('./') || n.startsWith('/')),
        devEntries: names.filter((n) => n.startsWith('dev/') && n !== 'dev/'),
        numericOwners: [...owners].every((o) => /^\d+\/\d+$/.test(o!)),
        osRelease: listing
          .find((l) => / etc\/os-release -> /.test(l))
          ?.replace(/^.* etc\/os-release/, 'etc/os-release'),
        askedFor: DEFAULT_PACKAGES.filter((p) => installed.includes(p)),
        coreTools: ['dpkg', 'apt', 'bash', 'libc6', 'python3'].filter((p) => installed.includes(p)),
        // what `dpkg -c` shows for the bookworm .debs of these packages (checked by hand)
        metadataDirs: metadataDirs.sort(),
      }).toEqual({
        badNames: [],
        devEntries: [],
        numericOwners: true,
        osRelease: 'etc/os-release -> ../usr/lib/os-release',
        askedFor: [...DEFAULT_PACKAGES],
        coreTools: ['dpkg', 'apt', 'bash', 'libc6', 'python3'],
        metadataDirs: [
          'PyYAML-6.0.dist-info',
          'attrs-22.2.0.dist-info',
          'certifi-2022.9.24.egg-info',
          'chardet-5.1.0.dist-info',
          'charset_normalizer-3.0.1.dist-info',
          'idna-3.3.egg-info',
          'packaging-23.0.dist-info',
          'requests-2.28.1.egg-info',
          'six-1.16.0.egg-info',
          'urllib3-1.26.12.egg-info',
        ],
      });
    },
  );

  it('takes the mirror from the apt sources', () => {
    expect(aptMirror()).toMatch(/^https?:\/\/\S+$/);
  });
});
