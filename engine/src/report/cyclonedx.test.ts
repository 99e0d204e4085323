import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { describe, expect, it } from 'vitest';
import type { ScanResult } from '../model/index.js';
import { toCycloneDx } from './cyclonedx.js';
import {
  ALPINE_CONFIG,
  ALPINE_DIGEST,
  ALPINE_LAYER,
  DEBIAN_CONFIG,
  alpineScan,
  debianScan,
  mixedScan,
} from './testdata/scans.js';
import { alpineResult, emptyResult, hostileResult, mixedResult } from './testdata/results.js';
import { packageId } from './unique-ids.js';

const FIXED = {
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
  timestamp: new Date('2024-03-01T10:00:03Z'),
};
const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

interface Cdx {
  metadata: { component: Record<string, unknown>; properties: unknown[] };
  components: { type: string; name: string; 'bom-ref': string; purl?: string; licenses?: unknown[] }[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}
const render = (scan: ScanResult): Cdx => JSON.parse(toCycloneDx(scan, FIXED)) as Cdx;

describe('toCycloneDx', () => {
  it.each([
    ['alpine', alpineScan],
    ['debian', debianScan],
    ['mixed', mixedScan],
  ])('%s: valid CycloneDX 1.6 (strict schema)', async (_name, scan) => {
    expect(await validator.validate(toCycloneDx(scan(), FIXED))).toBeNull();
  });

  it('the validator does reject an invalid document', async () => {
    const doc = JSON.parse(toCycloneDx(alpineScan(), FIXED)) as { components: { type: string }[] };
    doc.components[0]!.type = 'os';
    expect(await validator.validate(JSON.stringify(doc))).not.toBeNull();
  });

  it('alpine: whole document', () => {
    const q = 'arch=x86_64&distro=alpine-3.19.1';
    const image = `pkg:oci/alpine@${ALPINE_DIGEST}?repository_url=docker.io%2Flibrary%2Falpine&tag=3.19`;
    const apk = (name: string, version: string, purl: string, license: object, srcName: string) => ({
      type: 'library',
      name,
      version,
      'bom-ref': purl,
      licenses: [license],
      purl,
      properties: [
        { name: 'vigil:foundBy', value: 'os/apk' },
        { name: 'vigil:layer', value: ALPINE_LAYER },
        { name: 'vigil:path', value: 'lib/apk/db/installed' },
        { name: 'vigil:srcName', value: srcName },
      ],
    });
    const busybox = `pkg:apk/alpine/busybox@1.36.1-r15?${q}`;
    const certs = `pkg:apk/alpine/ca-certificates-bundle@20230506-r0?${q}&upstream=ca-certificates`;
    const crypto = `pkg:apk/alpine/libcrypto3@3.1.4-r5?${q}&upstream=openssl`;
    const musl = `pkg:apk/alpine/musl@1.2.4_git20230717-r4?${q}`;
    expect(JSON.parse(toCycloneDx(alpineScan(), FIXED))).toEqual({
      $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      serialNumber: FIXED.serialNumber,
      metadata: {
        timestamp: '2024-03-01T10:00:03.000Z',
        tools: { components: [{ type: 'application', name: 'vigil', version: '0.1.0' }] },
        component: {
          type: 'container',
          name: 'alpine:3.19',
          version: ALPINE_DIGEST,
          'bom-ref': image,
          purl: image,
          properties: [
            { name: 'vigil:artifact:kind', value: 'registry' },
            { name: 'vigil:image:configDigest', value: ALPINE_CONFIG },
            { name: 'vigil:image:repoTag', value: 'alpine:3.19' },
            { name: 'vigil:image:repoDigest', value: `alpine@${ALPINE_DIGEST}` },
            { name: 'vigil:image:layerDiffId', value: ALPINE_LAYER },
          ],
        },
        properties: [
          { name: 'vigil:scan:status', value: 'succeeded' },
          { name: 'vigil:scan:unknowns', value: '0' },
        ],
      },
      components: [
        {
          type: 'operating-system',
          name: 'alpine',
          version: '3.19.1',
          'bom-ref': 'vigil:os:alpine@3.19.1',
          description: 'Alpine Linux v3.19',
        },
        apk('busybox', '1.36.1-r15', busybox, { license: { id: 'GPL-2.0-only' } }, 'busybox'),
        apk(
          'ca-certificates-bundle',
          '20230506-r0',
          certs,
          { expression: 'MPL-2.0 AND MIT' },
          'ca-certificates',
        ),
        apk('libcrypto3', '3.1.4-r5', crypto, { license: { id: 'Apache-2.0' } }, 'openssl'),
        apk('musl', '1.2.4_git20230717-r4', musl, { license: { id: 'MIT' } }, 'musl'),
      ],
      dependencies: [
        { ref: image, dependsOn: ['vigil:os:alpine@3.19.1'] },
        { ref: 'vigil:os:alpine@3.19.1', dependsOn: [busybox, certs, crypto, musl] },
        { ref: busybox },
        { ref: certs },
        { ref: crypto },
        { ref: musl },
      ],
    });
  });

  it('debian archive: container without purl, named licenses where SPDX ids fail, partial status', () => {
    const doc = render(debianScan());
    expect(doc.metadata.component).toMatchObject({
      type: 'container',
      name: 'debian-12.tar',
      version: DEBIAN_CONFIG,
      'bom-ref': 'vigil:artifact',
    });
    expect(doc.metadata.component.purl).toBeUndefined();
    expect(doc.metadata.properties).toEqual([
      { name: 'vigil:scan:status', value: 'partial' },
      { name: 'vigil:scan:unknowns', value: '2' },
    ]);
    const licenses = Object.fromEntries(doc.components.map((c) => [c.name, c.licenses]));
    expect(licenses).toEqual({
      debian: undefined,
      'base-files': undefined,
      // 'GPL-2+ with Bison exception' is no SPDX expression: a list of license choices instead
      bash: [{ license: { id: 'GPL-3.0-or-later' } }, { license: { name: 'GPL-2+ with Bison exception' } }],
      'libbz2-1.0': undefined,
      libc6: [{ license: { id: 'LGPL-2.1-or-later' } }, { license: { id: 'GPL-2.0-or-later' } }],
      libgmp10: undefined,
    });
  });

  it('mixed: no OS component, unique bom-refs for the duplicated lodash, root depends on every package', () => {
    const scan = mixedScan();
    const doc = render(scan);
    const lodash = scan.packages.filter((p) => p.name === 'lodash');
    // report order puts app/node_modules/a/… before app/node_modules/lodash/…
    const [nested, top] = lodash[0]!.path!.includes('/a/')
      ? [lodash[0]!, lodash[1]!]
      : [lodash[1]!, lodash[0]!];
    const refs = doc.components.map((c) => c['bom-ref']);
    expect(refs).toEqual([
      'pkg:golang/github.com/spf13/cobra@v1.8.0',
      'pkg:golang/stdlib@v1.21.5',
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1',
      'pkg:npm/%40babel/core@7.23.9',
      `pkg:npm/lodash@4.17.21?package-id=${packageId(nested)}`,
      `pkg:npm/lodash@4.17.21?package-id=${packageId(top)}`,
      'pkg:pypi/cryptography@42.0.5',
      'pkg:pypi/typing-extensions@4.10.0',
    ]);
    expect(new Set(refs).size).toBe(refs.length);
    expect(doc.components.map((c) => [c.name, c.licenses])).toEqual([
      ['github.com/spf13/cobra', undefined],
      ['stdlib', undefined],
      ['org.apache.logging.log4j:log4j-core', [{ license: { id: 'Apache-2.0' } }]],
      ['@babel/core', [{ license: { id: 'MIT' } }]],
      ['lodash', [{ license: { id: 'MIT' } }]],
      ['lodash', [{ license: { id: 'MIT' } }]],
      ['cryptography', [{ expression: 'Apache-2.0 OR BSD-3-Clause' }]],
      ['typing_extensions', [{ license: { id: 'PSF-2.0' } }]],
    ]);
    expect(doc.metadata.component).toMatchObject({
      type: 'application',
      name: '/srv/app',
      'bom-ref': 'vigil:artifact',
    });
    expect(doc.dependencies[0]).toEqual({ ref: 'vigil:artifact', dependsOn: refs });
  });

  it('is deterministic: same output for the same scan, whatever the package order', () => {
    const reversed = mixedScan();
    reversed.packages.reverse();
    expect(toCycloneDx(reversed, FIXED)).toBe(toCycloneDx(mixedScan(), FIXED));
  });

  it('without injected values: a fresh urn:uuid serial number and the current time', () => {
    const before = Date.now();
    const a = JSON.parse(toCycloneDx(alpineScan())) as {
      serialNumber: string;
      metadata: { timestamp: string };
    };
    const b = JSON.parse(toCycloneDx(alpineScan())) as { serialNumber: string };
    expect(a.serialNumber).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(Date.parse(a.metadata.timestamp)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('survives hostile package content and stays schema-valid', async () => {
    const scan = mixedScan();
    scan.packages.push(
      { name: '', version: '', ecosystem: 'npm', foundBy: 'lang/npm' },
      {
        name: 'x y',
        version: '1 2',
        ecosystem: 'maven',
        licenses: ['', 'Not A (License'],
        foundBy: 'lang/java-archive',
      },
      {
        name: 'weird"\u0000name',
        version: '\u2603',
        ecosystem: 'golang',
        licenses: ['MIT AND'],
        foundBy: 'lang/go-binary',
      },
    );
    expect(await validator.validate(toCycloneDx(scan, FIXED))).toBeNull();
  });
});

describe('toCycloneDx of a matched result', () => {
  const parseBom = (r: Parameters<typeof toCycloneDx>[0]) =>
    JSON.parse(toCycloneDx(r, FIXED)) as {
      metadata: { properties: { name: string; value: string }[] };
      components: { 'bom-ref': string }[];
      vulnerabilities?: {
        'bom-ref': string;
        id: string;
        analysis?: Record<string, unknown>;
        affects: { ref: string }[];
        ratings: unknown[];
      }[];
    };

  it.each([
    ['alpine', alpineResult],
    ['mixed', mixedResult],
    ['empty', emptyResult],
    ['hostile', hostileResult],
  ])('%s: valid CycloneDX 1.6 (strict schema)', async (_name, make) => {
    expect(await validator.validate(toCycloneDx(make(), FIXED))).toBeNull();
  });

  it('whole vulnerabilities: one entry per (id, status, fixed version), affects point at the components', () => {
    const alpine = alpineResult();
    const result = {
      ...alpine,
      findings: alpine.findings.filter((f) =>
        ['CVE-2021-28831', 'CVE-2021-42374', 'CVE-2019-14697'].includes(f.id),
      ),
    };
    const q = 'arch=x86_64&distro=alpine-3.10.4';
    const secdb = (id: string) => ({ name: 'vigil:dataSource', value: `alpine alpine:3.10 ${id}` });
    const nvd = (id: string) => ({ name: 'NVD', url: `https://nvd.nist.gov/vuln/detail/${id}` });
    expect(parseBom(result).vulnerabilities).toEqual([
      {
        // busybox and ssl_client (both from the busybox origin) share the fix: one entry
        'bom-ref': 'vigil:vulnerability:CVE-2021-28831',
        id: 'CVE-2021-28831',
        source: nvd('CVE-2021-28831'),
        ratings: [
          {
            source: { name: 'nvd@nist.gov' },
            score: 7.5,
            severity: 'high',
            method: 'CVSSv31',
            vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
          },
        ],
        cwes: [755],
        description: 'busybox: invalid free or segfault on malformed gzip data',
        recommendation: 'Upgrade busybox, ssl_client to 1.30.1-r5',
        published: '2021-03-19T05:15:13.150Z',
        analysis: { response: ['update'] },
        affects: [
          {
            ref: `pkg:apk/alpine/busybox@1.30.1-r3?${q}`,
            versions: [{ version: '1.30.1-r3', status: 'affected' }],
          },
          {
            ref: `pkg:apk/alpine/ssl_client@1.30.1-r3?${q}&upstream=busybox`,
            versions: [{ version: '1.30.1-r3', status: 'affected' }],
          },
        ],
        properties: [
          { name: 'vigil:status', value: 'fixed' },
          { name: 'vigil:fixedVersion', value: '1.30.1-r5' },
          { name: 'vigil:severity', value: 'HIGH' },
          { name: 'vigil:severitySource', value: 'cvss:nvd@nist.gov' },
          { name: 'vigil:kev', value: 'false' },
          secdb('CVE-2021-28831'),
        ],
      },
      {
        'bom-ref': 'vigil:vulnerability:CVE-2021-42374',
        id: 'CVE-2021-42374',
        source: nvd('CVE-2021-42374'),
        ratings: [
          {
            source: { name: 'nvd@nist.gov' },
            score: 5.3,
            severity: 'medium',
            method: 'CVSSv31',
            vector: 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:H',
          },
        ],
        cwes: [125],
        description: 'busybox: out-of-bounds heap read in unlzma',
        analysis: {
          response: ['will_not_fix'],
          detail: 'the vendor will not fix this vulnerability in this release',
        },
        affects: [
          {
            ref: `pkg:apk/alpine/busybox@1.30.1-r3?${q}`,
            versions: [{ version: '1.30.1-r3', status: 'affected' }],
          },
        ],
        properties: [
          { name: 'vigil:status', value: 'will-not-fix' },
          { name: 'vigil:severity', value: 'MEDIUM' },
          { name: 'vigil:severitySource', value: 'cvss:nvd@nist.gov' },
          { name: 'vigil:kev', value: 'false' },
          secdb('CVE-2021-42374'),
        ],
      },
      {
        // UNKNOWN severity without any rating source: no rating at all
        'bom-ref': 'vigil:vulnerability:CVE-2019-14697',
        id: 'CVE-2019-14697',
        source: nvd('CVE-2019-14697'),
        analysis: { state: 'not_affected', detail: 'the vendor states the package is not affected' },
        affects: [
          {
            ref: `pkg:apk/alpine/musl@1.1.22-r3?${q}`,
            versions: [{ version: '1.1.22-r3', status: 'unaffected' }],
          },
        ],
        properties: [
          { name: 'vigil:status', value: 'not-affected' },
          { name: 'vigil:severity', value: 'UNKNOWN' },
          { name: 'vigil:severitySource', value: 'none' },
          { name: 'vigil:kev', value: 'false' },
          secdb('CVE-2019-14697'),
        ],
      },
    ]);
  });

  it('statuses map to analysis; KEV, EPSS, aliases and vendor ratings are kept', () => {
    const alpine = parseBom(alpineResult()).vulnerabilities!;
    const analysis = Object.fromEntries(alpine.map((v) => [v.id, v.analysis]));
    expect([analysis['CVE-2022-37434'], analysis['CVE-2021-3711']]).toEqual([
      { response: ['can_not_fix'], detail: 'no fixed version is available' },
      { state: 'in_triage', response: ['can_not_fix'], detail: 'the vendor deferred the fix' },
    ]);
    const mixed = parseBom(mixedResult()).vulnerabilities! as unknown as Record<string, unknown>[];
    const log4j = mixed.find((v) => v.id === 'CVE-2021-44228')!;
    expect([log4j.references, log4j.advisories, log4j.cwes]).toEqual([
      [
        {
          id: 'GHSA-jfh8-c2jp-5v3q',
          source: { name: 'GitHub', url: 'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q' },
        },
      ],
      [{ url: 'https://logging.apache.org/log4j/2.x/security.html' }],
      [502, 917],
    ]);
    expect(log4j.properties).toEqual(
      expect.arrayContaining([
        { name: 'vigil:kev', value: 'true' },
        { name: 'vigil:kev:dateAdded', value: '2021-12-10' },
        { name: 'vigil:epss', value: '0.97565' },
        { name: 'vigil:epssPercentile', value: '0.99996' },
      ]),
    );
    // GHSA-only advisory rated by GHSA (MODERATE): a vendor rating, no score
    expect(mixed.find((v) => v.id === 'GHSA-2222-3333-4444')!.ratings).toEqual([
      {
        source: { name: 'ghsa' },
        severity: 'medium',
        method: 'other',
        justification: 'ghsa rates it MODERATE',
      },
    ]);
  });

  it('the same id with two statuses gives two entries with distinct bom-refs; db and warnings in metadata', () => {
    const alpine = alpineResult();
    const libssl = alpine.findings.find((f) => f.id === 'CVE-2021-3711')!;
    alpine.findings.push({
      ...libssl,
      package: alpine.packages.find((p) => p.name === 'libcrypto1.1')!,
      status: 'fixed',
      fixedVersion: '1.1.1l-r0',
    });
    const bom = parseBom(alpine);
    expect(bom.vulnerabilities!.filter((v) => v.id === 'CVE-2021-3711').map((v) => v['bom-ref'])).toEqual([
      'vigil:vulnerability:CVE-2021-3711',
      'vigil:vulnerability:CVE-2021-3711#2',
    ]);
    expect(bom.metadata.properties).toEqual([
      { name: 'vigil:scan:status', value: 'succeeded' },
      { name: 'vigil:scan:unknowns', value: '0' },
      { name: 'vigil:db:version', value: 'v1-3f2a9c' },
      { name: 'vigil:db:builtAt', value: '2024-05-01T00:00:00Z' },
      {
        name: 'vigil:warning',
        value: 'DISTRO_EOL: alpine 3.10 is end-of-life: its security data is no longer updated',
      },
    ]);
    // every affects ref is a component's bom-ref
    const refs = new Set(bom.components.map((c) => c['bom-ref']));
    expect(
      bom.vulnerabilities!.flatMap((v) => v.affects.map((a) => a.ref)).filter((r) => !refs.has(r)),
    ).toEqual([]);
  });

  it('an inventory has no vulnerabilities key', () => {
    expect(parseBom(alpineScan()).vulnerabilities).toBeUndefined();
  });
});
