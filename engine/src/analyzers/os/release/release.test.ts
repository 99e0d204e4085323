import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { OsRelease } from '../../../model/os.js';
import { inputFromBuffer, type AnalysisResult } from '../../types.js';
import { osReleaseAnalyzer, pickOsRelease } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');

async function analyzeText(path: string, text: string | Buffer): Promise<AnalysisResult> {
  return osReleaseAnalyzer.analyze(inputFromBuffer(path, Buffer.from(text)));
}

describe('osReleaseAnalyzer.required', () => {
  it.each([
    ['etc/os-release', true],
    ['usr/lib/os-release', true],
    ['etc/alpine-release', true],
    ['etc/debian_version', true],
    ['etc/redhat-release', true],
    ['etc/centos-release', true],
    ['etc/rocky-release', true],
    ['etc/almalinux-release', true],
    ['etc/oracle-release', true],
    ['etc/fedora-release', true],
    ['etc/system-release', true],
    ['etc/lsb-release', true],
    ['etc/SuSE-release', true],
    ['/etc/os-release', false],
    ['etc/os-release.bak', false],
    ['usr/etc/os-release', false],
    ['etc/system-release-cpe', false],
    ['etc/suse-release', false],
    ['lib/apk/db/installed', false],
  ])('%s → %s', (path, expected) => {
    expect(osReleaseAnalyzer.required(path)).toBe(expected);
  });

  it('lists exactly the required paths as staticPaths', () => {
    for (const p of osReleaseAnalyzer.staticPaths) expect(osReleaseAnalyzer.required(p)).toBe(true);
    expect(osReleaseAnalyzer.staticPaths).toHaveLength(13);
  });
});

/** Every file under testdata/<case>/, analysed at its image path. */
function analyzeFixtures(): Promise<Record<string, AnalysisResult>> {
  const out: Record<string, AnalysisResult> = {};
  const walk = async (caseDir: string, dir: string): Promise<void> => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) await walk(caseDir, full);
      else {
        const path = relative(caseDir, full);
        if (osReleaseAnalyzer.required(path)) {
          out[`${relative(TESTDATA, caseDir)}/${path}`] = await osReleaseAnalyzer.analyze(
            inputFromBuffer(path, readFileSync(full)),
          );
        }
      }
    }
  };
  return (async () => {
    for (const c of readdirSync(TESTDATA).sort()) await walk(join(TESTDATA, c), join(TESTDATA, c));
    return out;
  })();
}

describe('osReleaseAnalyzer.analyze on testdata', () => {
  it('reads the hand-written cases', async () => {
    expect(await analyzeFixtures()).toEqual({
      'amazon-2/etc/system-release': {
        os: {
          family: 'amzn',
          version: '2',
          name: 'Amazon Linux',
          prettyName: 'Amazon Linux release 2 (Karoo)',
          codename: 'Karoo',
          source: 'etc/system-release',
        },
      },
      'no-id/etc/os-release': { unknowns: [{ path: 'etc/os-release', message: 'os-release has no ID' }] },
      'quoting/etc/os-release': {
        os: {
          family: 'debian', // ID="Debian", lower-cased
          version: '12', // indented line, unquoted value ends at the blank before the comment
          name: 'Quoted Linux', // single quotes
          prettyName: 'Say "hi" for $5 \\ \\x', // \" \$ \\ unescaped, \x kept as written
          codename: 'bookworm', // VERSION_CODENAME= is empty, so from VERSION="12 (bookworm)"
          idLike: ['foo', 'bar'],
          source: 'etc/os-release',
        },
      },
      'scientific/etc/redhat-release': {
        unknowns: [
          {
            path: 'etc/redhat-release',
            message: 'release file: unrecognised distribution "Scientific Linux"',
          },
        ],
      },
      'sles-11/etc/SuSE-release': {
        os: {
          family: 'sles',
          version: '11.4',
          name: 'SUSE Linux Enterprise Server 11',
          prettyName: 'SUSE Linux Enterprise Server 11 (x86_64)',
          source: 'etc/SuSE-release',
        },
      },
      'ubuntu-noble/etc/debian_version': {
        os: { family: 'debian', version: 'trixie/sid', codename: 'trixie', source: 'etc/debian_version' },
      },
    });
  });

  it.each([
    [
      'empty os-release',
      'etc/os-release',
      '',
      { unknowns: [{ path: 'etc/os-release', message: 'os-release has no ID' }] },
    ],
    [
      'empty alpine-release',
      'etc/alpine-release',
      '\n',
      { unknowns: [{ path: 'etc/alpine-release', message: 'alpine-release: unexpected content ""' }] },
    ],
    [
      'binary',
      'etc/debian_version',
      '12\0\x01',
      { unknowns: [{ path: 'etc/debian_version', message: 'release file is binary' }] },
    ],
    [
      'CRLF and BOM',
      'etc/os-release',
      '\uFEFFID=alpine\r\nVERSION_ID=3.19.1\r\n',
      { os: { family: 'alpine', version: '3.19.1', source: 'etc/os-release' } },
    ],
    [
      'no VERSION_ID (Debian sid)',
      'usr/lib/os-release',
      'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\nVERSION_CODENAME=trixie\n',
      {
        os: {
          family: 'debian',
          version: '',
          prettyName: 'Debian GNU/Linux trixie/sid',
          codename: 'trixie',
          source: 'usr/lib/os-release',
        },
      },
    ],
    [
      'alias id',
      'etc/os-release',
      'ID=opensuse\nVERSION_ID=42.3\n',
      { os: { family: 'opensuse-leap', version: '42.3', source: 'etc/os-release' } },
    ],
    [
      'old Ubuntu VERSION codename',
      'etc/os-release',
      'ID=ubuntu\nVERSION="16.04.7 LTS (Xenial Xerus)"\nVERSION_ID="16.04"\n',
      { os: { family: 'ubuntu', version: '16.04', codename: 'xenial', source: 'etc/os-release' } },
    ],
    [
      'Rocky release file',
      'etc/rocky-release',
      'Rocky Linux release 8.5 (Green Obsidian)\n',
      {
        os: {
          family: 'rocky',
          version: '8.5',
          name: 'Rocky Linux',
          prettyName: 'Rocky Linux release 8.5 (Green Obsidian)',
          codename: 'Green Obsidian',
          source: 'etc/rocky-release',
        },
      },
    ],
    [
      'no release line',
      'etc/redhat-release',
      'hello\n',
      {
        unknowns: [
          { path: 'etc/redhat-release', message: 'release file: no "<name> release <version>" line' },
        ],
      },
    ],
  ])('%s', async (_name, path, text, expected) => {
    expect(await analyzeText(path, text)).toEqual(expected);
  });

  it('refuses an oversized file without reading it', async () => {
    const input = inputFromBuffer('etc/os-release', Buffer.alloc(0));
    expect(await osReleaseAnalyzer.analyze({ ...input, size: 1 << 20 })).toEqual({
      unknowns: [{ path: 'etc/os-release', message: 'release file too large (1048576 bytes)' }],
    });
  });
});

describe.skipIf(!hasRealdata)('osReleaseAnalyzer fuzz', () => {
  it('never rejects and always yields an os or an unknown, for every parser', async () => {
    const dir = realdata('osrelease');
    const seeds = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    // one path per parser
    const paths = [
      'etc/os-release',
      'etc/lsb-release',
      'etc/alpine-release',
      'etc/debian_version',
      'etc/redhat-release',
      'etc/SuSE-release',
    ];
    let calls = 0;
    const failures = await fuzz(seeds, 12_000, async (input) => {
      const found: OsRelease[] = [];
      for (const path of paths) {
        const result = await osReleaseAnalyzer.analyze(inputFromBuffer(path, input));
        calls++;
        if (result.os) {
          if (result.os.family === '' || result.os.source !== path)
            throw new Error(`bad os ${JSON.stringify(result.os)}`);
          found.push(result.os);
        } else if (result.unknowns?.length !== 1) {
          throw new Error(`neither os nor one unknown: ${JSON.stringify(result)}`);
        }
      }
      pickOsRelease(found);
    });
    expect(failures).toEqual([]);
    expect(calls).toBe(12_000 * paths.length);
  });
});
