import { describe, expect, it } from 'vitest';
import { renderTable } from './index.js';
import { HOSTILE, alpineResult, emptyResult, hostileResult, mixedResult } from './testdata/results.js';
import { alpineScan, debianScan, mixedScan } from './testdata/scans.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('renderTable of a matched result', () => {
  it('alpine: warnings first, one OS target with totals, rows by severity then id, fix plan', () => {
    // rows: the 11 findings of testdata/results.ts; ids in code-unit order ('36159' < '3711');
    // EPSS 0.0251 → 2.5%, 0.0004 → 0.04%; titles cut at 50 code points with '…'; CVE-2021-30139
    // has no title: the first sentence of its description stands in
    expect(renderTable(alpineResult())).toMatchInlineSnapshot(`
      "images/alpine-3.10.tar (alpine 3.10.4)
      packages: 7, vulnerabilities: 11, db v1-3f2a9c (built 2024-05-01T00:00:00Z)

      warnings: 1
        DISTRO_EOL: alpine 3.10 is end-of-life: its security data is no longer updated

      images/alpine-3.10.tar (alpine 3.10.4)
      Total: 11 (CRITICAL: 3, HIGH: 4, MEDIUM: 2, LOW: 1, UNKNOWN: 1)

      PACKAGE       VULNERABILITY   SEVERITY  STATUS        INSTALLED  FIXED      KEV/EPSS    TITLE
      ────────────  ──────────────  ────────  ────────────  ─────────  ─────────  ──────────  ──────────────────────────────────────────────────
      apk-tools     CVE-2021-36159  CRITICAL  fixed         2.10.4-r2  2.10.7-r0  EPSS 2.5%   libfetch: out-of-bounds read on numeric strings
      libssl1.1     CVE-2021-3711   CRITICAL  deferred      1.1.1d-r2                         openssl: SM2 decryption buffer overflow
      zlib          CVE-2022-37434  CRITICAL  unfixed       1.2.11-r1                         zlib: heap-based buffer over-read in inflate
      libcrypto1.1  CVE-2020-1967   HIGH      fixed         1.1.1d-r2  1.1.1g-r0  EPSS 0.04%  openssl: SSL_check_chain() NULL pointer dereferen…
      busybox       CVE-2021-28831  HIGH      fixed         1.30.1-r3  1.30.1-r5              busybox: invalid free or segfault on malformed gz…
      ssl_client    CVE-2021-28831  HIGH      fixed         1.30.1-r3  1.30.1-r5              busybox: invalid free or segfault on malformed gz…
      apk-tools     CVE-2021-30139  HIGH      fixed         2.10.4-r2  2.10.6-r0              In Alpine Linux apk-tools before 2.12.5, the tarb…
      musl          CVE-2020-28928  MEDIUM    fixed         1.1.22-r3  1.1.22-r4              musl: wcsnrtombs buffer overflow
      busybox       CVE-2021-42374  MEDIUM    will-not-fix  1.30.1-r3                         busybox: out-of-bounds heap read in unlzma
      libcrypto1.1  CVE-2021-23839  LOW       fixed         1.1.1d-r2  1.1.1j-r0
      musl          CVE-2019-14697  UNKNOWN   not-affected  1.1.22-r3

      Fix plan
        upgrade apk-tools 2.10.4-r2 → 2.10.7-r0 fixes 2 (1 critical, 1 high)
        upgrade libcrypto1.1 1.1.1d-r2 → 1.1.1j-r0 fixes 2 (1 high, 1 low)
        upgrade busybox 1.30.1-r3 → 1.30.1-r5 fixes 1 (1 high)
        upgrade ssl_client 1.30.1-r3 → 1.30.1-r5 fixes 1 (1 high)
        upgrade musl 1.1.22-r3 → 1.1.22-r4 fixes 1 (1 medium)"
    `);
  });

  it('mixed: one target per language file (titles sorted), LIBRARY column, KEV marker, paths in the fix plan, unknowns', () => {
    expect(renderTable(mixedResult())).toMatchInlineSnapshot(`
      "/srv/app (unknown OS)
      packages: 6, vulnerabilities: 7, db v1-3f2a9c (built 2024-05-01T00:00:00Z)

      app/lib/log4j-core-2.14.1.jar (maven)
      Total: 1 (CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)

      LIBRARY                              VULNERABILITY   SEVERITY  STATUS  INSTALLED  FIXED   KEV/EPSS        TITLE
      ───────────────────────────────────  ──────────────  ────────  ──────  ─────────  ──────  ──────────────  ──────────────────────────────
      org.apache.logging.log4j:log4j-core  CVE-2021-44228  CRITICAL  fixed   2.14.1     2.15.0  KEV EPSS 97.6%  Remote code injection in Log4j

      app/package-lock.json (npm)
      Total: 4 (CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 0, UNKNOWN: 0)

      LIBRARY   VULNERABILITY   SEVERITY  STATUS  INSTALLED  FIXED    KEV/EPSS   TITLE
      ────────  ──────────────  ────────  ──────  ─────────  ───────  ─────────  ───────────────────────────────
      minimist  CVE-2021-44906  CRITICAL  fixed   1.2.0      1.2.6               Prototype Pollution in minimist
      lodash    CVE-2020-8203   HIGH      fixed   4.17.15    4.17.19  EPSS 2.1%  Prototype Pollution in lodash
      lodash    CVE-2021-23337  HIGH      fixed   4.17.15    4.17.21             Command Injection in lodash
      minimist  CVE-2020-7598   MEDIUM    fixed   1.2.0      1.2.2               Prototype Pollution in minimist

      app/requirements.txt (pypi)
      Total: 1 (CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 0, UNKNOWN: 0)

      LIBRARY   VULNERABILITY        SEVERITY  STATUS  INSTALLED  FIXED   KEV/EPSS  TITLE
      ────────  ───────────────────  ────────  ──────  ─────────  ──────  ────────  ──────────────────────────────────────────
      requests  GHSA-2222-3333-4444  MEDIUM    fixed   2.25.0     2.31.0            requests leaks Proxy-Authorization headers

      usr/local/bin/app (golang)
      Total: 1 (CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 0, UNKNOWN: 0)

      LIBRARY  VULNERABILITY   SEVERITY  STATUS  INSTALLED  FIXED    KEV/EPSS  TITLE
      ───────  ──────────────  ────────  ──────  ─────────  ───────  ────────  ──────────────────────────────────────────────────
      stdlib   CVE-2023-45290  MEDIUM    fixed   v1.21.5    v1.21.8            Memory exhaustion in multipart form parsing in ne…

      Fix plan
        upgrade minimist 1.2.0 → 1.2.6 in app/package-lock.json fixes 2 (1 critical, 1 medium)
        upgrade org.apache.logging.log4j:log4j-core 2.14.1 → 2.15.0 in app/lib/log4j-core-2.14.1.jar fixes 1 (1 critical)
        upgrade lodash 4.17.15 → 4.17.21 in app/package-lock.json fixes 2 (2 high)
        upgrade requests 2.25.0 → 2.31.0 in app/requirements.txt fixes 1 (1 medium)
        upgrade stdlib v1.21.5 → v1.21.8 in usr/local/bin/app fixes 1 (1 medium)

      unknowns: 1
        app/yarn.lock: cannot parse yarn.lock: unexpected token"
    `);
  });

  it('a target without findings says Total: 0; an empty result says so', () => {
    const clean = {
      ...mixedResult(),
      findings: mixedResult().findings.filter((f) => f.package.ecosystem !== 'pypi'),
    };
    const text = renderTable(clean);
    expect(text).toContain(
      'app/requirements.txt (pypi)\nTotal: 0 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)\n\n',
    );
    expect(renderTable(emptyResult())).toMatchInlineSnapshot(`
      "gcr.io/distroless/static:nonroot (unknown OS)
      packages: 0, vulnerabilities: 0, db v1-3f2a9c (built 2024-05-01T00:00:00Z)

      No vulnerabilities found."
    `);
  });

  it('risk order: KEV, then EPSS, then severity', () => {
    const rows = renderTable(mixedResult(), { sort: 'risk' })
      .split('\n')
      .filter((l) => /^(lodash|minimist) /.test(l))
      .map((l) =>
        l
          .split(/\s{2,}/)
          .slice(0, 2)
          .join(' '),
      );
    // lodash CVE-2020-8203 has EPSS 0.0212, the others none: it leads its target
    expect(rows).toEqual([
      'lodash CVE-2020-8203',
      'minimist CVE-2021-44906',
      'lodash CVE-2021-23337',
      'minimist CVE-2020-7598',
    ]);
  });
});

describe('renderTable colours', () => {
  it('without color: no escape sequence at all', () => {
    expect(renderTable(alpineResult())).not.toMatch(ANSI);
    expect(renderTable(alpineScan())).not.toMatch(ANSI);
  });

  it('with color: severities coloured, headings bold, KEV bold red; stripping the codes gives the plain table', () => {
    const colored = renderTable(mixedResult(), { color: true });
    expect(colored.replace(ANSI, '')).toBe(renderTable(mixedResult()));
    const line = colored.split('\n').find((l) => l.includes('CVE-2021-44228'))!;
    expect(line).toContain('\x1b[1;31mCRITICAL\x1b[0m');
    expect(line).toContain('\x1b[1;31mKEV\x1b[0m EPSS 97.6%');
    const alpine = renderTable(alpineResult(), { color: true });
    expect(
      ['HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'].map(
        (s) => new RegExp(`\\x1b\\[[0-9;]+m${s}\\x1b\\[[0-9;]+m`).exec(alpine)?.[0],
      ),
    ).toEqual([
      '\x1b[31mHIGH\x1b[39m',
      '\x1b[33mMEDIUM\x1b[39m',
      '\x1b[34mLOW\x1b[39m',
      '\x1b[2mUNKNOWN\x1b[22m',
    ]);
    expect(alpine.split('\n')[0]).toBe('\x1b[1mimages/alpine-3.10.tar (alpine 3.10.4)\x1b[22m');
  });
});

describe('renderTable of an inventory (no database)', () => {
  it('keeps the package table: one section per OS / file, PACKAGE VERSION SOURCE LAYER', () => {
    // output of the CLI table before it moved here, for the same scan
    expect(renderTable(debianScan())).toMatchInlineSnapshot(`
      "debian-12.tar (debian 12.5)
      packages: 5

      OS packages (deb)
      PACKAGE     VERSION            SOURCE  LAYER
      ──────────  ─────────────────  ──────  ────────────
      libc6       2.36-9+deb12u4     glibc   666666666666
      libgmp10    2:6.2.1+dfsg1-1.1  gmp     666666666666
      bash        5.2.15-2+b2                666666666666
      libbz2-1.0  1.0.8-5+b1         bzip2   666666666666
      base-files  12.4+deb12u5               666666666666

      unknowns: 2
        var/lib/dpkg/status.d/zz-broken: truncated stanza
        usr/lib/os-release: unreadable: too large"
    `);
  });

  it('mixed directory: a section per file in the order met', () => {
    expect(
      renderTable(mixedScan())
        .split('\n')
        .filter((l) => l.endsWith(')')),
    ).toEqual([
      '/srv/app (unknown OS)',
      'app/node_modules/lodash/package.json (npm)',
      'app/lib/log4j-core-2.17.1.jar (maven)',
      'usr/local/bin/app (golang)',
      'app/node_modules/@babel/core/package.json (npm)',
      'app/node_modules/a/node_modules/lodash/package.json (npm)',
      'usr/lib/python3.11/site-packages/typing_extensions-4.10.0.dist-info/METADATA (pypi)',
      'usr/lib/python3.11/site-packages/cryptography-42.0.5.dist-info/METADATA (pypi)',
    ]);
  });
});

describe('renderTable of hostile values', () => {
  it('no control character or escape reaches the terminal; every line of a table has the same column starts', () => {
    const text = renderTable(hostileResult());
    expect(text).not.toMatch(CONTROL);
    expect(text).not.toContain('\u202e');
    const lines = text.split('\n');
    const hostileRows = lines.filter((l) => l.startsWith('<script>'));
    // the package name's newline became a space, ESC became U+FFFD: one row per finding
    const name = '<script>alert("x")</script>|`pkg`&amp; @team/evil\uFFFD[31mred';
    expect(hostileRows.map((l) => l.slice(0, name.length + 16))).toEqual([
      `${name}  CVE-2024-0001 `,
      `${name}  ID <with> "quo`,
    ]);
    const header = lines[lines.indexOf(hostileRows[0]!) - 2]!;
    expect(header.indexOf('VULNERABILITY')).toBe(hostileRows[0]!.indexOf('CVE-2024-0001'));
    expect(lines).toContain('app/<weird> dir/ü|&.json (npm)');
    expect(text).toContain(
      `  W<1>: **bold** [link](https://evil.example) <img src=x onerror=alert(1)> | www.evil.example @octocat\uFFFD`,
    );
    expect(HOSTILE.name).toContain('\n');
  });
});
