/**
 * Hand-built matched results (VulnerabilityScanResult) for the report tests.
 *
 * alpineResult(): the real alpine:3.10 image of ../shared/realdata
 * (images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz: alpine 3.10.4, versions and
 * origins as in its lib/apk/db/installed), a subset of its packages. The `fixed` findings follow
 * feeds/alpine/vulnlist-secdb-v3.10-main-image-subset.json (secfixes: apk-tools 2.10.6-r0
 * CVE-2021-30139, 2.10.7-r0 CVE-2021-36159; busybox 1.30.1-r5 CVE-2021-28831; openssl 1.1.1g-r0
 * CVE-2020-1967, 1.1.1j-r0 CVE-2021-23839; musl 1.1.22-r4 CVE-2020-28928), their CVSS vectors,
 * scores, CWEs, publication times and description openings follow
 * feeds/nvd/fkie-nvd-api2-alpine-image-cves.json (nvd@nist.gov Primary v3.1). Made up for
 * coverage: the titles, EPSS values, the warning, and the statuses other than `fixed`
 * (zlib CVE-2022-37434 has no secdb record for 3.10, so `unfixed` is what a matcher would say;
 * will-not-fix, deferred and not-affected are invented), and the UNKNOWN severity of
 * CVE-2019-14697 (no NVD record in realdata).
 *
 * mixedResult(): a project directory with lock files, a jar and a Go binary; advisories modelled
 * on real ones (log4shell is in the realdata KEV slice with dateAdded 2021-12-10), EPSS values
 * and the GHSA-only advisory invented.
 *
 * Remediations are worked out by hand from the findings as the matcher's fix plan defines them:
 * per installed package, the highest fixed version among its `fixed` findings, the ids it fixes
 * (most severe first, then id) and their severities.
 */
import type { Finding, Remediation, VulnerabilityScanResult } from '../../model/index.js';
import type { Package } from '../../model/package.js';
import type { Severity } from '../../model/severity.js';

const hex = (c: string) => c.repeat(64);
export const ALPINE310_DIGEST = `sha256:${hex('a')}`;
export const ALPINE310_LAYER = `sha256:${hex('b')}`;

const NVD = 'nvd@nist.gov';
const V31 = 'CVSS:3.1';

function apk(name: string, version: string, origin: string): Package {
  return {
    name,
    version,
    ecosystem: 'apk',
    srcName: origin,
    arch: 'x86_64',
    layer: ALPINE310_LAYER,
    path: 'lib/apk/db/installed',
    foundBy: 'os/apk',
  };
}

const APK_TOOLS = apk('apk-tools', '2.10.4-r2', 'apk-tools');
const BUSYBOX = apk('busybox', '1.30.1-r3', 'busybox');
const SSL_CLIENT = apk('ssl_client', '1.30.1-r3', 'busybox');
const LIBCRYPTO = apk('libcrypto1.1', '1.1.1d-r2', 'openssl');
const LIBSSL = apk('libssl1.1', '1.1.1d-r2', 'openssl');
const MUSL = apk('musl', '1.1.22-r3', 'musl');
const ZLIB = apk('zlib', '1.2.11-r1', 'zlib');

type FindingInput = Partial<Finding> & Pick<Finding, 'id' | 'package' | 'severity'>;

/** A finding with the defaults of a plain `fixed` match; `cvss` given as [version, vector, score]. */
export function finding(f: FindingInput): Finding {
  return {
    aliases: [],
    installedVersion: f.package.version,
    fixedVersion: null,
    status: 'fixed',
    severitySource: f.cvss ? `cvss:${f.cvss.source}` : 'none',
    cvss: null,
    kev: false,
    epss: null,
    epssPercentile: null,
    references: [],
    cwes: [],
    dataSources: [],
    ...f,
  };
}

const secdb = (advisoryId: string) => [{ source: 'alpine', namespace: 'alpine:3.10', advisoryId }];
const nvd = (vector: string, score: number) => ({ version: '3.1' as const, vector: `${V31}/${vector}`, score, source: NVD });
const counts = (c: Partial<Record<Severity, number>>): Record<Severity, number> => ({
  CRITICAL: 0,
  HIGH: 0,
  MEDIUM: 0,
  LOW: 0,
  UNKNOWN: 0,
  ...c,
});

export function alpineFindings(): Finding[] {
  return [
    finding({
      id: 'CVE-2021-36159',
      package: APK_TOOLS,
      severity: 'CRITICAL',
      fixedVersion: '2.10.7-r0',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H', 9.1),
      epss: 0.0251,
      epssPercentile: 0.8861,
      title: 'libfetch: out-of-bounds read on numeric strings',
      description:
        'libfetch before 2021-07-26, as used in apk-tools, xbps, and other products, mishandles numeric strings for the FTP and HTTP protocols.',
      references: ['https://github.com/freebsd/freebsd-src/commits/main/lib/libfetch'],
      cwes: ['CWE-125'],
      published: '2021-08-03T14:15:08.233',
      dataSources: secdb('CVE-2021-36159'),
    }),
    finding({
      id: 'CVE-2021-30139',
      package: APK_TOOLS,
      severity: 'HIGH',
      fixedVersion: '2.10.6-r0',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5),
      description: 'In Alpine Linux apk-tools before 2.12.5, the tarball parser allows a buffer overflow and crash.',
      references: ['https://gitlab.alpinelinux.org/alpine/apk-tools/-/issues/10741'],
      cwes: ['CWE-125'],
      published: '2021-04-21T16:15:08.830',
      dataSources: secdb('CVE-2021-30139'),
    }),
    ...[BUSYBOX, SSL_CLIENT].map((pkg) =>
      finding({
        id: 'CVE-2021-28831',
        package: pkg,
        severity: 'HIGH',
        fixedVersion: '1.30.1-r5',
        cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5),
        title: 'busybox: invalid free or segfault on malformed gzip data',
        cwes: ['CWE-755'],
        published: '2021-03-19T05:15:13.150',
        dataSources: secdb('CVE-2021-28831'),
      }),
    ),
    finding({
      id: 'CVE-2021-42374',
      package: BUSYBOX,
      severity: 'MEDIUM',
      status: 'will-not-fix',
      cvss: nvd('AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:H', 5.3),
      title: "busybox: out-of-bounds heap read in unlzma",
      cwes: ['CWE-125'],
      dataSources: secdb('CVE-2021-42374'),
    }),
    finding({
      id: 'CVE-2020-1967',
      package: LIBCRYPTO,
      severity: 'HIGH',
      fixedVersion: '1.1.1g-r0',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5),
      epss: 0.0004,
      epssPercentile: 0.1022,
      title: 'openssl: SSL_check_chain() NULL pointer dereference',
      cwes: ['CWE-476'],
      published: '2020-04-21T14:15:11.287',
      dataSources: secdb('CVE-2020-1967'),
    }),
    finding({
      id: 'CVE-2021-23839',
      package: LIBCRYPTO,
      severity: 'LOW',
      fixedVersion: '1.1.1j-r0',
      cvss: nvd('AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N', 3.7),
      cwes: ['CWE-327'],
      dataSources: secdb('CVE-2021-23839'),
    }),
    finding({
      id: 'CVE-2021-3711',
      package: LIBSSL,
      severity: 'CRITICAL',
      status: 'deferred',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8),
      title: 'openssl: SM2 decryption buffer overflow',
      cwes: ['CWE-120'],
      dataSources: secdb('CVE-2021-3711'),
    }),
    finding({
      id: 'CVE-2020-28928',
      package: MUSL,
      severity: 'MEDIUM',
      fixedVersion: '1.1.22-r4',
      cvss: nvd('AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', 5.5),
      title: 'musl: wcsnrtombs buffer overflow',
      cwes: ['CWE-787'],
      dataSources: secdb('CVE-2020-28928'),
    }),
    finding({
      id: 'CVE-2019-14697',
      package: MUSL,
      severity: 'UNKNOWN',
      status: 'not-affected',
      dataSources: secdb('CVE-2019-14697'),
    }),
    finding({
      id: 'CVE-2022-37434',
      package: ZLIB,
      severity: 'CRITICAL',
      status: 'unfixed',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8),
      title: 'zlib: heap-based buffer over-read in inflate',
      cwes: ['CWE-787'],
      published: '2022-08-05T07:15:07.240',
      dataSources: [{ source: 'nvd', namespace: 'alpine:3.10', advisoryId: 'CVE-2022-37434' }],
    }),
  ];
}

export function alpineRemediations(): Remediation[] {
  const r = (packageName: string, installedVersion: string, fixedVersion: string, ids: string[], c: Partial<Record<Severity, number>>): Remediation => ({
    packageName,
    ecosystem: 'apk',
    installedVersion,
    fixedVersion,
    fixes: ids.length,
    bySeverity: counts(c),
    ids,
  });
  // per installed package, as the matcher's fix plan does; deliberately not in plan order
  return [
    r('musl', '1.1.22-r3', '1.1.22-r4', ['CVE-2020-28928'], { MEDIUM: 1 }),
    r('ssl_client', '1.30.1-r3', '1.30.1-r5', ['CVE-2021-28831'], { HIGH: 1 }),
    r('busybox', '1.30.1-r3', '1.30.1-r5', ['CVE-2021-28831'], { HIGH: 1 }),
    r('libcrypto1.1', '1.1.1d-r2', '1.1.1j-r0', ['CVE-2020-1967', 'CVE-2021-23839'], { HIGH: 1, LOW: 1 }),
    r('apk-tools', '2.10.4-r2', '2.10.7-r0', ['CVE-2021-36159', 'CVE-2021-30139'], { CRITICAL: 1, HIGH: 1 }),
  ];
}

export function alpineResult(): VulnerabilityScanResult {
  return {
    artifact: {
      name: 'images/alpine-3.10.tar',
      kind: 'docker-archive',
      digest: ALPINE310_DIGEST,
      repoTags: ['alpine:3.10'],
      layers: [{ diffId: ALPINE310_LAYER }],
    },
    os: { family: 'alpine', version: '3.10.4', prettyName: 'Alpine Linux v3.10' },
    packages: [ZLIB, MUSL, LIBSSL, LIBCRYPTO, SSL_CLIENT, BUSYBOX, APK_TOOLS],
    unknowns: [],
    status: 'succeeded',
    startedAt: '2024-05-01T12:00:00.000Z',
    finishedAt: '2024-05-01T12:00:03.000Z',
    db: { version: 'v1-3f2a9c', builtAt: '2024-05-01T00:00:00Z' },
    findings: alpineFindings().reverse(),
    remediations: alpineRemediations(),
    warnings: [{ code: 'DISTRO_EOL', message: 'alpine 3.10 is end-of-life: its security data is no longer updated' }],
  };
}

const LOCK = 'app/package-lock.json';
const JAR = 'app/lib/log4j-core-2.14.1.jar';
const BIN = 'usr/local/bin/app';
const REQS = 'app/requirements.txt';

function lang(ecosystem: Package['ecosystem'], name: string, version: string, path: string, foundBy: string): Package {
  return { name, version, ecosystem, path, foundBy, declared: foundBy.endsWith('-lock') || undefined };
}

const LODASH = lang('npm', 'lodash', '4.17.15', LOCK, 'lang/npm-lock');
const MINIMIST = lang('npm', 'minimist', '1.2.0', LOCK, 'lang/npm-lock');
const LOG4J = lang('maven', 'org.apache.logging.log4j:log4j-core', '2.14.1', JAR, 'lang/java-archive');
const STDLIB = lang('golang', 'stdlib', 'v1.21.5', BIN, 'lang/go-binary');
const COBRA = lang('golang', 'github.com/spf13/cobra', 'v1.8.0', BIN, 'lang/go-binary');
const REQUESTS = lang('pypi', 'requests', '2.25.0', REQS, 'lang/python-lock');

const ghsa = (ecosystem: string, advisoryId: string) => [{ source: 'ghsa', namespace: ecosystem, advisoryId }];

export function mixedFindings(): Finding[] {
  return [
    finding({
      id: 'CVE-2021-44228',
      aliases: ['GHSA-jfh8-c2jp-5v3q'],
      package: LOG4J,
      severity: 'CRITICAL',
      fixedVersion: '2.15.0',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10),
      kev: true,
      kevEntry: { cveId: 'CVE-2021-44228', dateAdded: '2021-12-10', vendorProject: 'Apache' },
      epss: 0.97565,
      epssPercentile: 0.99996,
      title: 'Remote code injection in Log4j',
      references: ['https://logging.apache.org/log4j/2.x/security.html'],
      cwes: ['CWE-502', 'CWE-917'],
      published: '2021-12-10T10:15:09.143',
      dataSources: ghsa('maven', 'GHSA-jfh8-c2jp-5v3q'),
    }),
    finding({
      id: 'CVE-2021-44906',
      aliases: ['GHSA-xvch-5gv4-984h'],
      package: MINIMIST,
      severity: 'CRITICAL',
      fixedVersion: '1.2.6',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8),
      title: 'Prototype Pollution in minimist',
      dataSources: ghsa('npm', 'GHSA-xvch-5gv4-984h'),
    }),
    finding({
      id: 'CVE-2020-7598',
      aliases: ['GHSA-vh95-rmgr-6w4m'],
      package: MINIMIST,
      severity: 'MEDIUM',
      fixedVersion: '1.2.2',
      cvss: nvd('AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L', 5.6),
      title: 'Prototype Pollution in minimist',
      dataSources: ghsa('npm', 'GHSA-vh95-rmgr-6w4m'),
    }),
    finding({
      id: 'CVE-2020-8203',
      aliases: ['GHSA-p6mc-m468-83gw'],
      package: LODASH,
      severity: 'HIGH',
      fixedVersion: '4.17.19',
      cvss: nvd('AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H', 7.4),
      epss: 0.0212,
      epssPercentile: 0.873,
      title: 'Prototype Pollution in lodash',
      dataSources: ghsa('npm', 'GHSA-p6mc-m468-83gw'),
    }),
    finding({
      id: 'CVE-2021-23337',
      aliases: ['GHSA-35jh-r3h4-6jhm'],
      package: LODASH,
      severity: 'HIGH',
      fixedVersion: '4.17.21',
      cvss: nvd('AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2),
      title: 'Command Injection in lodash',
      dataSources: ghsa('npm', 'GHSA-35jh-r3h4-6jhm'),
    }),
    finding({
      id: 'GHSA-2222-3333-4444',
      package: REQUESTS,
      severity: 'MEDIUM',
      severitySource: 'vendor:ghsa',
      vendorSeverity: { source: 'ghsa', rating: 'MODERATE', severity: 'MEDIUM' },
      fixedVersion: '2.31.0',
      title: 'requests leaks Proxy-Authorization headers',
      dataSources: ghsa('pypi', 'GHSA-2222-3333-4444'),
    }),
    finding({
      id: 'CVE-2023-45290',
      aliases: ['GO-2024-2599'],
      package: STDLIB,
      severity: 'MEDIUM',
      fixedVersion: 'v1.21.8',
      cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L', 5.3),
      title: 'Memory exhaustion in multipart form parsing in net/textproto and net/http',
      dataSources: [{ source: 'osv', namespace: 'golang', advisoryId: 'GO-2024-2599' }],
    }),
  ];
}

export function mixedRemediations(): Remediation[] {
  const r = (
    pkg: Package,
    fixedVersion: string,
    ids: string[],
    c: Partial<Record<Severity, number>>,
  ): Remediation => ({
    packageName: pkg.name,
    ecosystem: pkg.ecosystem,
    path: pkg.path!,
    installedVersion: pkg.version,
    fixedVersion,
    fixes: ids.length,
    bySeverity: counts(c),
    ids,
  });
  return [
    r(STDLIB, 'v1.21.8', ['CVE-2023-45290'], { MEDIUM: 1 }),
    r(LODASH, '4.17.21', ['CVE-2020-8203', 'CVE-2021-23337'], { HIGH: 2 }),
    r(LOG4J, '2.15.0', ['CVE-2021-44228'], { CRITICAL: 1 }),
    r(REQUESTS, '2.31.0', ['GHSA-2222-3333-4444'], { MEDIUM: 1 }),
    r(MINIMIST, '1.2.6', ['CVE-2021-44906', 'CVE-2020-7598'], { CRITICAL: 1, MEDIUM: 1 }),
  ];
}

export function mixedResult(): VulnerabilityScanResult {
  return {
    artifact: { name: '/srv/app', kind: 'rootfs' },
    packages: [REQUESTS, COBRA, STDLIB, LOG4J, MINIMIST, LODASH],
    unknowns: [{ path: 'app/yarn.lock', message: 'cannot parse yarn.lock: unexpected token' }],
    status: 'partial',
    startedAt: '2024-05-02T08:00:00.000Z',
    finishedAt: '2024-05-02T08:00:01.500Z',
    db: { version: 'v1-3f2a9c', builtAt: '2024-05-01T00:00:00Z' },
    findings: mixedFindings(),
    remediations: mixedRemediations(),
    warnings: [],
  };
}

/** A matched scan that found nothing: a distroless image without packages. */
export function emptyResult(): VulnerabilityScanResult {
  return {
    artifact: { name: 'gcr.io/distroless/static:nonroot', kind: 'registry', digest: `sha256:${hex('c')}` },
    packages: [],
    unknowns: [],
    status: 'succeeded',
    startedAt: '2024-05-03T08:00:00.000Z',
    finishedAt: '2024-05-03T08:00:00.400Z',
    db: { version: 'v1-3f2a9c', builtAt: '2024-05-01T00:00:00Z' },
    findings: [],
    remediations: [],
    warnings: [],
  };
}

/** Values that break naive renderers: markup, XML, table pipes, newlines, escapes, mentions. */
export const HOSTILE = {
  name: '<script>alert("x")</script>|`pkg`&amp;\n@team/evil\u001b[31mred',
  version: '1.0|<2>\r\n&"\'',
  title: '**bold** [link](https://evil.example) <img src=x onerror=alert(1)> | www.evil.example @octocat\u202e',
  description: 'line 1\nline 2 </failure><![CDATA[ ]]> \u0000 \uffff',
  path: 'app/<weird> dir/ü|&.json',
  id: 'CVE-2024-0001',
  weirdId: 'ID <with> "quotes" & | pipes',
};

/** The alpine result with a hostile language package and findings on it. */
export function hostileResult(): VulnerabilityScanResult {
  const base = alpineResult();
  const pkg: Package = {
    name: HOSTILE.name,
    version: HOSTILE.version,
    ecosystem: 'npm',
    path: HOSTILE.path,
    foundBy: 'lang/npm-lock',
  };
  const hostile = [
    finding({
      id: HOSTILE.id,
      package: pkg,
      severity: 'HIGH',
      fixedVersion: '2.0<',
      title: HOSTILE.title,
      description: HOSTILE.description,
      references: ['javascript:alert(1)', 'https://ok.example/a b'],
      cwes: ['CWE-79', 'NVD-CWE-Other'],
      aliases: [HOSTILE.weirdId],
      dataSources: ghsa('npm', HOSTILE.weirdId),
    }),
    finding({ id: HOSTILE.weirdId, package: pkg, severity: 'LOW', title: HOSTILE.title, status: 'unfixed' }),
  ];
  return {
    ...base,
    artifact: { ...base.artifact, name: `alpine:3.10 <"&|>` },
    packages: [...base.packages, pkg],
    findings: [...base.findings, ...hostile],
    remediations: [
      ...base.remediations,
      {
        packageName: pkg.name,
        ecosystem: 'npm',
        path: pkg.path!,
        installedVersion: pkg.version,
        fixedVersion: '2.0<',
        fixes: 1,
        bySeverity: counts({ HIGH: 1 }),
        ids: [HOSTILE.id],
      },
    ],
    warnings: [...base.warnings, { code: 'W<1>', message: HOSTILE.title }],
  };
}
