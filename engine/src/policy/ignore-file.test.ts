import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors.js';
import { parseExpiry } from './expiry.js';
import { applyIgnoreFile, parseIgnoreFile, readIgnoreFile, type IgnoreEntry } from './ignore-file.js';
import { apk, finding, label, npm } from './testdata/findings.js';

const TESTDATA = join(import.meta.dirname, 'testdata');

function errorOf(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (e) {
    return isEngineError(e) ? { code: e.code, message: e.message } : { message: String(e) };
  }
  return {};
}

describe('parseIgnoreFile', () => {
  it('reads the .vigilignore YAML example (ignore: mapping form, with lines)', async () => {
    const text = await readFile(join(TESTDATA, 'vigilignore.yaml'), 'utf8');
    // lines counted in testdata/vigilignore.yaml
    expect(parseIgnoreFile(text)).toEqual([
      { id: 'CVE-2019-14697', package: 'musl', reason: 'x87 code path only', line: 4 },
      {
        id: 'CVE-2019-1547',
        package: 'openssl',
        expires: '2030-01-01',
        reason: 'waiting for the 3.11 base image',
        line: 8,
      },
      { id: 'CVE-2019-1549', expires: '2020-06-30T12:00:00Z', line: 13 },
      { id: 'GHSA-p6mc-m468-83gw', purl: 'pkg:npm/lodash', paths: ['tools/**'], line: 16 },
      { id: 'CVE-2019-1563', line: 20 },
    ]);
  });

  it('reads the trivy plain format (comments, exp:, inline reason, blank lines)', async () => {
    const text = await readFile(join(TESTDATA, 'trivyignore.txt'), 'utf8');
    expect(parseIgnoreFile(text)).toEqual([
      { id: 'CVE-2019-14697', line: 2 },
      { id: 'CVE-2019-1547', expires: '2030-01-01', line: 3 },
      { id: 'CVE-2019-1549', expires: '2020-06-30', reason: 'accepted until the mid-2020 rebuild', line: 4 },
      { id: 'GHSA-p6mc-m468-83gw', line: 6 },
    ]);
  });

  it('accepts a top-level list, an empty file, comments only and "ignore:" with nothing', () => {
    expect([
      parseIgnoreFile('- id: CVE-2020-1\n- CVE-2020-2\n'),
      parseIgnoreFile(''),
      parseIgnoreFile('# nothing accepted yet\n'),
      parseIgnoreFile('ignore:\n'),
      parseIgnoreFile('ignore: []\n'),
      parseIgnoreFile('- id: CVE-2020-3\n  paths: app/**\n'),
    ]).toEqual([
      [
        { id: 'CVE-2020-1', line: 1 },
        { id: 'CVE-2020-2', line: 2 },
      ],
      [],
      [],
      [],
      [],
      [{ id: 'CVE-2020-3', paths: ['app/**'], line: 1 }],
    ]);
  });

  it('uses the plain format for a file named .trivyignore even when it could be YAML', () => {
    expect(parseIgnoreFile('CVE-2020-1\n', { name: '/repo/.trivyignore' })).toEqual([
      { id: 'CVE-2020-1', line: 1 },
    ]);
  });

  // [why, text, message]
  const BAD: [string, string, string][] = [
    ['entry without id', 'ignore:\n  - package: musl\n', '.vigilignore:2 (entry 1): entry without an "id"'],
    [
      'unknown key (typo)',
      '- id: CVE-2020-1\n  expire: 2030-01-01\n',
      '.vigilignore:1 (entry 1): unknown key "expire"',
    ],
    [
      'bad date',
      '- id: CVE-2020-1\n- id: CVE-2020-2\n  expires: 2030-02-30\n',
      '.vigilignore:2 (entry 2): "expires: 2030-02-30" is not YYYY-MM-DD',
    ],
    [
      'date as a number',
      '- id: CVE-2020-1\n  expires: 20300101\n',
      '.vigilignore:1 (entry 1): "expires" must be a non-empty string',
    ],
    [
      'bad YAML',
      '- id: CVE-2020-1\n  reason: a: b\n- id: CVE-2020-2\n',
      '.vigilignore:2: not valid YAML: Nested mappings',
    ],
    // the parser finds the missing quote at the end of the input (line 3)
    [
      'unterminated quote',
      '- id: CVE-2020-1\n  reason: "unterminated\n',
      '.vigilignore:3: not valid YAML: Missing closing',
    ],
    ['duplicate key', '- id: CVE-2020-1\n  id: CVE-2020-2\n', '.vigilignore:2: not valid YAML'],
    ['id with a space', '- id: CVE 2020\n', '.vigilignore:1 (entry 1): "CVE 2020" is not an id'],
    [
      'purl that is not one',
      '- id: CVE-2020-1\n  purl: npm/lodash\n',
      '.vigilignore:1 (entry 1): "purl: npm/lodash" is not a package URL',
    ],
    [
      'other top-level key',
      'ignores:\n  - CVE-2020-1\n',
      '.vigilignore:1: expected a list of entries or "ignore:" with a list',
    ],
    [
      'plain: bad exp',
      'CVE-2020-1\nCVE-2020-2 exp:2030-13-01\n',
      '.vigilignore:2: "exp:2030-13-01" is not exp:YYYY-MM-DD',
    ],
    ['plain: stray token', 'CVE-2020-1 exp 2030-01-01\n', '.vigilignore:1: unexpected "exp" after the id'],
  ];
  it.each(BAD)('rejects %s with ENG_POLICY_INVALID naming the line', (_why, text, message) => {
    const e = errorOf(() => parseIgnoreFile(text));
    expect(e.code).toBe('ENG_POLICY_INVALID');
    expect(e.message).toContain(message);
  });

  it('readIgnoreFile: missing file, directory and non-UTF-8 are coded errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-ignore-'));
    await writeFile(join(dir, 'latin1'), Buffer.from([0x43, 0x56, 0x45, 0xe9, 0x0a]));
    const codes = await Promise.all(
      [join(dir, 'nope'), dir, join(dir, 'latin1')].map((p) =>
        readIgnoreFile(p).then(
          () => 'ok',
          (e) => e.code,
        ),
      ),
    );
    expect(codes).toEqual(['ENG_IMAGE_SOURCE_NOT_FOUND', 'ENG_POLICY_INVALID', 'ENG_POLICY_INVALID']);
    expect(await readIgnoreFile(join(TESTDATA, 'trivyignore.txt'))).toHaveLength(4);
  });
});

describe('parseExpiry', () => {
  // [text, expected ISO or undefined]
  const CASES: [string, string | undefined][] = [
    ['2030-01-01', '2030-01-01T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2023-02-29', undefined],
    ['2030-01-01T12:30:00Z', '2030-01-01T12:30:00.000Z'],
    ['2030-01-01T12:30:00.25+02:00', '2030-01-01T10:30:00.250Z'],
    ['2030-01-01 12:30:00-05:30', '2030-01-01T18:00:00.000Z'],
    ['0050-03-01', '0050-03-01T00:00:00.000Z'],
    ['2030-01-01T24:00:00Z', undefined],
    ['2030-01-01T12:00', undefined],
    ['01/02/2030', undefined],
    ['tomorrow', undefined],
  ];
  it.each(CASES)('%s', (text, iso) => {
    const t = parseExpiry(text);
    expect(t === undefined ? undefined : new Date(t).toISOString()).toBe(iso);
  });
});

describe('applyIgnoreFile', () => {
  const libcrypto = apk('libcrypto1.1', '1.1.1c-r0', 'openssl');
  const libssl = apk('libssl1.1', '1.1.1c-r0', 'openssl');
  const musl = apk('musl', '1.1.22-r3', 'musl');
  const toolsLodash = npm('lodash', '4.17.15', 'tools/node_modules/lodash/package.json');
  const appLodash = npm('lodash', '4.17.15', 'app/node_modules/lodash/package.json');

  const f = {
    muslA: finding('CVE-2019-14697', musl),
    cryptoB: finding('CVE-2019-1547', libcrypto),
    sslB: finding('CVE-2019-1547', libssl),
    cryptoC: finding('CVE-2019-1549', libcrypto),
    toolsLodash: finding('GHSA-p6mc-m468-83gw', toolsLodash, { aliases: ['CVE-2020-8203'] }),
    appLodash: finding('CVE-2020-8203', appLodash, { aliases: ['GHSA-p6mc-m468-83gw'] }),
    cryptoD: finding('CVE-2019-1563', libcrypto),
    other: finding('CVE-2019-1551', libssl),
  };
  const all = Object.values(f);

  it('applies the example file on 2025-01-10: package, srcName, purl+paths, aliases, expiry', async () => {
    const entries = parseIgnoreFile(await readFile(join(TESTDATA, 'vigilignore.yaml'), 'utf8'));
    const r = applyIgnoreFile(all, entries, new Date('2025-01-10T00:00:00Z'));
    expect({
      kept: r.kept.map(label),
      ignored: r.ignored.map((i) => `${label(i.finding)} by line ${i.entry.line}`),
      expired: r.expired.map((e) => e.id),
    }).toEqual({
      kept: [
        // CVE-2019-1549: its entry expired 2020-06-30
        'CVE-2019-1549 libcrypto1.1@1.1.1c-r0',
        // lodash outside tools/ is not covered by paths: [tools/**] (matched through its GHSA alias)
        'CVE-2020-8203 lodash@4.17.15',
        'CVE-2019-1551 libssl1.1@1.1.1c-r0',
      ],
      ignored: [
        'CVE-2019-14697 musl@1.1.22-r3 by line 4',
        // package: openssl matches both binary packages through their source package (origin)
        'CVE-2019-1547 libcrypto1.1@1.1.1c-r0 by line 8',
        'CVE-2019-1547 libssl1.1@1.1.1c-r0 by line 8',
        'GHSA-p6mc-m468-83gw lodash@4.17.15 by line 16',
        'CVE-2019-1563 libcrypto1.1@1.1.1c-r0 by line 20',
      ],
      expired: ['CVE-2019-1549'],
    });
  });

  // [why, entry, now, ignored labels, expired ids]
  const CASES: [string, IgnoreEntry, string, string[], string[]][] = [
    [
      'id matches case-insensitively',
      { id: 'cve-2019-14697' },
      '2025-01-01',
      ['CVE-2019-14697 musl@1.1.22-r3'],
      [],
    ],
    [
      'alias match',
      { id: 'GHSA-P6MC-M468-83GW' },
      '2025-01-01',
      ['GHSA-p6mc-m468-83gw lodash@4.17.15', 'CVE-2020-8203 lodash@4.17.15'],
      [],
    ],
    [
      'package name (binary name)',
      { id: 'CVE-2019-1547', package: 'libssl1.1' },
      '2025-01-01',
      ['CVE-2019-1547 libssl1.1@1.1.1c-r0'],
      [],
    ],
    [
      'purl with version',
      { id: 'CVE-2019-1547', purl: 'pkg:apk/alpine/libcrypto1.1@1.1.1c-r0' },
      '2025-01-01',
      ['CVE-2019-1547 libcrypto1.1@1.1.1c-r0'],
      [],
    ],
    [
      'purl with another version',
      { id: 'CVE-2019-1547', purl: 'pkg:apk/alpine/libcrypto1.1@1.1.1d-r0' },
      '2025-01-01',
      [],
      [],
    ],
    [
      'purl qualifier subset',
      { id: 'CVE-2019-1547', purl: 'pkg:apk/alpine/libssl1.1?arch=x86_64' },
      '2025-01-01',
      ['CVE-2019-1547 libssl1.1@1.1.1c-r0'],
      [],
    ],
    [
      'paths on an OS package with a path',
      { id: 'CVE-2019-14697', paths: ['lib/apk/**'] },
      '2025-01-01',
      ['CVE-2019-14697 musl@1.1.22-r3'],
      [],
    ],
    [
      'expires later the same day still applies',
      { id: 'CVE-2019-14697', expires: '2025-01-01T00:00:01Z' },
      '2025-01-01T00:00:00Z',
      ['CVE-2019-14697 musl@1.1.22-r3'],
      [],
    ],
    [
      'expires exactly now no longer applies',
      { id: 'CVE-2019-14697', expires: '2025-01-01' },
      '2025-01-01T00:00:00Z',
      [],
      ['CVE-2019-14697'],
    ],
    [
      'an expired entry matching nothing is still listed',
      { id: 'CVE-1999-0001', expires: '2000-01-01' },
      '2025-01-01',
      [],
      ['CVE-1999-0001'],
    ],
    [
      'all criteria must hold',
      { id: 'CVE-2019-1547', package: 'openssl', paths: ['usr/**'] },
      '2025-01-01',
      [],
      [],
    ],
  ];
  it.each(CASES)('%s', (_why, entry, now, ignored, expired) => {
    const r = applyIgnoreFile(all, [entry], new Date(now));
    expect({
      ignored: r.ignored.map((i) => label(i.finding)),
      expired: r.expired.map((e) => e.id),
      kept: r.kept.length,
    }).toEqual({
      ignored,
      expired,
      kept: all.length - ignored.length,
    });
  });

  it('a hand-built entry with a bad date is a coded error', () => {
    expect(errorOf(() => applyIgnoreFile(all, [{ id: 'X', expires: 'soon' }])).code).toBe(
      'ENG_POLICY_INVALID',
    );
  });
});
