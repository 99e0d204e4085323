import { describe, expect, test } from 'vitest';
import { parseHeader, RpmHeaderError } from './header.js';
import { headerToPackage, parseSourceRpm, TAG } from './package-info.js';
import { packageHeader } from './testdata/fixtures.js';

const info = (blob: Buffer) => headerToPackage(parseHeader(blob), 'os/rpm');

describe('parseSourceRpm', () => {
  test.each([
    ['openssl-3.0.7-16.el9.src.rpm', { name: 'openssl', version: '3.0.7', release: '16.el9' }],
    [
      'gcc12-12.2.1+git416-150000.1.5.1.src.rpm',
      { name: 'gcc12', version: '12.2.1+git416', release: '150000.1.5.1' },
    ],
    ['kernel-rt-5.14.0-70.nosrc.rpm', { name: 'kernel-rt', version: '5.14.0', release: '70' }],
    ['openssl-3.0.7.src.rpm', undefined],
    ['openssl-3.0.7-16.el9.x86_64.rpm', undefined],
  ])('%s', (file, expected) => {
    expect(parseSourceRpm(file)).toEqual(expected);
  });
});

describe('headerToPackage', () => {
  test('epoch > 0 is printed on the version and the source version; metadata keeps it', () => {
    const blob = packageHeader(
      {
        name: 'openssl-libs',
        version: '3.0.7',
        release: '16.el9',
        epoch: 1,
        arch: 'x86_64',
        sourceRpm: 'openssl-3.0.7-16.el9.src.rpm',
      },
      [
        { tag: TAG.LICENSE, type: 6, value: 'ASL 2.0' },
        { tag: TAG.VENDOR, type: 6, value: 'Red Hat, Inc.' },
        { tag: TAG.MODULARITYLABEL, type: 6, value: 'nodejs:18:9020020230707:rhel9' },
        { tag: TAG.DIRNAMES, type: 8, value: ['/usr/lib64/', '/etc/pki/tls/'] },
        { tag: TAG.BASENAMES, type: 8, value: ['libssl.so.3', 'openssl.cnf'] },
        { tag: TAG.DIRINDEXES, type: 4, value: [0, 1] },
      ],
    );
    expect(info(blob)).toEqual({
      package: {
        name: 'openssl-libs',
        version: '1:3.0.7-16.el9',
        ecosystem: 'rpm',
        foundBy: 'os/rpm',
        arch: 'x86_64',
        srcName: 'openssl',
        srcVersion: '1:3.0.7-16.el9',
        licenses: ['ASL 2.0'],
        metadata: { vendor: 'Red Hat, Inc.', modularityLabel: 'nodejs:18:9020020230707:rhel9', epoch: 1 },
      },
      files: ['usr/lib64/libssl.so.3', 'etc/pki/tls/openssl.cnf'],
      problems: [],
    });
  });

  test('an explicit epoch 0 is not printed but kept in metadata', () => {
    const blob = packageHeader({
      name: 'bash',
      version: '5.1.8',
      release: '6.el9',
      epoch: 0,
      arch: 'x86_64',
    });
    expect(info(blob)?.package).toEqual({
      name: 'bash',
      version: '5.1.8-6.el9',
      ecosystem: 'rpm',
      foundBy: 'os/rpm',
      arch: 'x86_64',
      metadata: { epoch: 0 },
    });
  });

  test('"(none)" strings count as absent; old OLDFILENAMES lists are read; "/" is not a file', () => {
    const blob = packageHeader({ name: 'filesystem', version: '3.2', release: '1', sourceRpm: '(none)' }, [
      { tag: TAG.VENDOR, type: 6, value: '(none)' },
      { tag: TAG.OLDFILENAMES, type: 8, value: ['/', '/bin', '/etc/'] },
    ]);
    expect(info(blob)).toEqual({
      package: { name: 'filesystem', version: '3.2-1', ecosystem: 'rpm', foundBy: 'os/rpm' },
      files: ['bin', 'etc/'],
      problems: [],
    });
  });

  test('file entries with a bad directory index are dropped and reported', () => {
    const blob = packageHeader({ name: 'x', version: '1', release: '1' }, [
      { tag: TAG.DIRNAMES, type: 8, value: ['/usr/bin/'] },
      { tag: TAG.BASENAMES, type: 8, value: ['a', 'b', 'c'] },
      { tag: TAG.DIRINDEXES, type: 4, value: [0, 5] },
    ]);
    expect(info(blob)).toMatchObject({
      files: ['usr/bin/a'],
      problems: ['2 of 3 file entries have no valid directory index'],
    });
  });

  test('gpg-pubkey pseudo packages are skipped', () => {
    expect(
      info(packageHeader({ name: 'gpg-pubkey', version: 'fd431d51', release: '4ae0493b' })),
    ).toBeUndefined();
  });

  test('a header without NAME/VERSION/RELEASE is not a package', () => {
    const noRelease = packageHeader({ name: 'x', version: '1', release: '' });
    expect(() => info(noRelease)).toThrow(new RpmHeaderError('header lacks RELEASE'));
  });
});
