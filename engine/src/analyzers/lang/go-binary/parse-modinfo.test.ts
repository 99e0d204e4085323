import { describe, expect, it } from 'vitest';
import { stdlibVersion } from './packages.js';
import { ldflagsVersion, parseModInfo, shellSplit } from './parse-modinfo.js';

describe('parseModInfo', () => {
  it('reads path, main, deps with replacements and unquoted build settings; skips malformed lines', () => {
    const text = [
      'go\tgo1.21.0',
      'path\texample.com/app',
      'mod\texample.com/app\t(devel)\t',
      'dep\texample.com/a\tv1.0.0\th1:a=',
      '=>\t./a\t(devel)\t',
      'garbage without tab',
      'dep\texample.com/b\tv2.0.0+incompatible',
      'build\t-tags=netgo',
      'build\t-ldflags="-X \\"main.version=1.0.0\\""',
      'build\tnoequals',
    ].join('\n');
    expect(parseModInfo(text)).toEqual({
      path: 'example.com/app',
      main: { path: 'example.com/app', version: '(devel)' },
      deps: [
        {
          path: 'example.com/a',
          version: 'v1.0.0',
          sum: 'h1:a=',
          replace: { path: './a', version: '(devel)' },
        },
        { path: 'example.com/b', version: 'v2.0.0+incompatible' },
      ],
      settings: [
        ['-tags', 'netgo'],
        ['-ldflags', '-X "main.version=1.0.0"'],
      ],
    });
  });
});

describe('ldflags version stamping', () => {
  it('splits like a shell', () => {
    expect(shellSplit(`-s  -X 'a.b=c d' -X "e.f=\\"g\\"" h\\ i`)).toEqual([
      '-s',
      '-X',
      'a.b=c d',
      '-X',
      'e.f="g"',
      'h i',
    ]);
  });

  it.each([
    ['-s -w -X main.version=1.2.3', 'v1.2.3'],
    ['-X=main.Version=v0.4.0-rc.1', 'v0.4.0-rc.1'],
    ['-X example.com/app/internal/build.ver=3.1', 'v3.1'],
    // <main>/cmd/ keys win over main.* keys
    ['-X main.version=1.0.0 -X example.com/app/cmd/app/pkg.Version=2.0.0', 'v2.0.0'],
    // default prefixes (main, common, version, cmd) win over other keys
    ['-X example.com/app/x/build.version=5.0.0 -X example.com/app/version.Version=4.0.0', 'v4.0.0'],
    // two different values in the winning group: ambiguous
    ['-X main.version=1.0.0 -X main.ver=1.0.1', ''],
    // not a version key, not a semver value
    ['-X main.commit=1.0.0 -X main.version=abcdef', ''],
    ['-X', ''],
  ])('%s → %s', (ldflags, expected) => {
    expect(ldflagsVersion('example.com/app', ldflags)).toBe(expected);
  });
});

describe('stdlibVersion', () => {
  it.each([
    ['go1.22.1', 'v1.22.1'],
    ['go1.22.3 X:boringcrypto', 'v1.22.3'],
    ['go1.21rc2', 'v1.21rc2'],
    ['devel go1.23-abcdef Tue', undefined],
    ['', undefined],
  ])('%s → %s', (goVersion, expected) => {
    expect(stdlibVersion(goVersion)).toBe(expected);
  });
});
