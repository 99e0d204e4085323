import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import type { Package } from '../model/package.js';
import { apk, finding, label, npm } from './testdata/findings.js';
import { applyVex, parseVex, readVexFile } from './vex.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const ARTIFACT =
  'pkg:oci/service@sha256:1111111111111111111111111111111111111111111111111111111111111111?repository_url=registry.example.com%2Fteam%2Fservice&tag=1.4';

const libcrypto = apk('libcrypto1.1', '1.1.1c-r0', 'openssl');
const libssl = apk('libssl1.1', '1.1.1c-r0', 'openssl');
const musl = apk('musl', '1.1.22-r3', 'musl');
const lodash = npm('lodash', '4.17.15', 'app/node_modules/lodash/package.json');

const findings = [
  finding('CVE-2019-14697', musl),
  finding('CVE-2019-1547', libcrypto),
  finding('CVE-2019-1547', libssl),
  finding('CVE-2019-1549', libssl),
  finding('CVE-2020-8203', lodash, { aliases: ['GHSA-p6mc-m468-83gw'] }),
  finding('CVE-2019-1563', libcrypto),
  finding('CVE-2019-1551', libssl),
];

describe('OpenVEX', () => {
  it('parses statements: names, usable aliases, products, subcomponents, inherited timestamps', async () => {
    const doc = parseVex(await readFile(join(TESTDATA, 'openvex.json')), 'openvex.json');
    expect({ format: doc.format, id: doc.id, timestamp: doc.timestamp, n: doc.statements.length }).toEqual({
      format: 'openvex',
      id: 'https://vex.example.com/service/2024-06-01',
      timestamp: '2024-06-01T09:00:00Z',
      n: 6,
    });
    // statement 2: URL @id and URL alias are pages, not ids; no statement timestamp → the document's
    expect(doc.statements[1]).toEqual({
      vulnerability: 'CVE-2019-1547',
      ids: ['CVE-2019-1547'],
      products: [
        {
          ids: ['pkg:oci/service?repository_url=registry.example.com/team/service'],
          subcomponents: [['pkg:apk/alpine/libcrypto1.1@1.1.1c-r0']],
        },
      ],
      status: 'not_affected',
      rawStatus: 'not_affected',
      justification: 'vulnerable_code_cannot_be_controlled_by_adversary',
      timestamp: '2024-06-01T09:00:00Z',
      location: 'statements[1]',
    });
    expect(doc.statements[2]!.products).toEqual([
      { ids: ['pkg:apk/alpine/libssl1.1@1.1.1c-r0?arch=x86_64'], subcomponents: [] },
    ]);
  });

  it('suppresses not_affected / fixed findings and says which statement did it', async () => {
    const doc = await readVexFile(join(TESTDATA, 'openvex.json'));
    const r = applyVex(findings, [doc], { artifactPurl: ARTIFACT });
    expect({
      kept: r.kept.map(label),
      suppressed: r.suppressed.map(
        (s) => `${label(s.finding)}: ${s.statement.status} (${s.statement.location})`,
      ),
    }).toEqual({
      kept: [
        // statement 1 names only libcrypto1.1 as the image's subcomponent
        'CVE-2019-1547 libssl1.1@1.1.1c-r0',
        // GHSA not_affected (2024-01-15) is overridden by the later affected statement (2024-05-20)
        'CVE-2020-8203 lodash@4.17.15',
        // under_investigation does not suppress
        'CVE-2019-1563 libcrypto1.1@1.1.1c-r0',
        // no statement
        'CVE-2019-1551 libssl1.1@1.1.1c-r0',
      ],
      suppressed: [
        // pkg:apk/alpine/musl without version covers musl@1.1.22-r3
        'CVE-2019-14697 musl@1.1.22-r3: not_affected (statements[0])',
        // image product (repository_url subset of the artifact purl) + libcrypto1.1 subcomponent
        'CVE-2019-1547 libcrypto1.1@1.1.1c-r0: not_affected (statements[1])',
        // identifiers.purl with arch=x86_64 ⊂ the package purl qualifiers
        'CVE-2019-1549 libssl1.1@1.1.1c-r0: fixed (statements[2])',
      ],
    });
    expect(r.suppressed[0]!.document).toEqual({
      format: 'openvex',
      id: 'https://vex.example.com/service/2024-06-01',
      source: join(TESTDATA, 'openvex.json'),
    });
  });

  it('an image-level statement needs the artifact purl; without it only package products apply', async () => {
    const doc = await readVexFile(join(TESTDATA, 'openvex.json'));
    const r = applyVex(findings, [doc]);
    expect(r.suppressed.map((s) => label(s.finding))).toEqual([
      'CVE-2019-14697 musl@1.1.22-r3',
      'CVE-2019-1549 libssl1.1@1.1.1c-r0',
    ]);
  });

  it('a product without subcomponents that covers the artifact speaks for every package', () => {
    const doc = parseVex(
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        statements: [
          {
            vulnerability: { name: 'CVE-2019-1547' },
            products: [{ '@id': 'pkg:oci/service' }],
            status: 'fixed',
          },
        ],
      }),
    );
    expect(
      applyVex(findings, [doc], { artifactPurl: ARTIFACT }).suppressed.map((s) => label(s.finding)),
    ).toEqual(['CVE-2019-1547 libcrypto1.1@1.1.1c-r0', 'CVE-2019-1547 libssl1.1@1.1.1c-r0']);
  });

  it('reads the v0.0.1 draft shape (string vulnerability, string products, statement subcomponents)', () => {
    const doc = parseVex(
      JSON.stringify({
        '@context': 'https://openvex.dev/ns',
        timestamp: '2023-01-08T18:02:03-06:00',
        statements: [
          { vulnerability: 'CVE-2019-14697', products: ['pkg:apk/alpine/musl@1.1.22-r3'], status: 'fixed' },
          {
            vulnerability: 'CVE-2019-1547',
            products: [ARTIFACT],
            subcomponents: ['pkg:apk/alpine/libssl1.1'],
            status: 'not_affected',
          },
        ],
      }),
    );
    expect(
      applyVex(findings, [doc], { artifactPurl: ARTIFACT }).suppressed.map((s) => label(s.finding)),
    ).toEqual(['CVE-2019-14697 musl@1.1.22-r3', 'CVE-2019-1547 libssl1.1@1.1.1c-r0']);
  });

  it('equal timestamps: the later statement in input order wins (across documents too)', () => {
    const statement = (status: string) => ({
      vulnerability: { name: 'CVE-2019-14697' },
      products: [{ '@id': 'pkg:apk/alpine/musl' }],
      status,
    });
    const doc = (status: string) =>
      parseVex(
        JSON.stringify({
          '@context': 'https://openvex.dev/ns/v0.2.0',
          timestamp: '2024-01-01T00:00:00Z',
          statements: [statement(status)],
        }),
      );
    const musls = [finding('CVE-2019-14697', musl)];
    expect([
      applyVex(musls, [doc('not_affected'), doc('affected')]).suppressed.length,
      applyVex(musls, [doc('affected'), doc('not_affected')]).suppressed.length,
    ]).toEqual([0, 1]);
  });

  // [why, document, message]
  const BAD: [string, unknown, string][] = [
    [
      'no vulnerability name',
      { statements: [{ vulnerability: {}, status: 'fixed' }] },
      'x.json: statements[0]: no vulnerability name',
    ],
    [
      'unknown status',
      { statements: [{ vulnerability: { name: 'CVE-1' }, status: 'safe' }] },
      'x.json: statements[0]: unknown status "safe"',
    ],
    ['no status', { statements: [{ vulnerability: { name: 'CVE-1' } }] }, 'x.json: statements[0]: no status'],
    [
      'products not a list',
      { statements: [{ vulnerability: { name: 'CVE-1' }, status: 'fixed', products: {} }] },
      'statements[0].products: must be a list',
    ],
    [
      'product of a wrong type',
      { statements: [{ vulnerability: { name: 'CVE-1' }, status: 'fixed', products: [7] }] },
      'statements[0].products[0]: a product must be an object or a string',
    ],
    [
      'alias not a string',
      { statements: [{ vulnerability: { name: 'CVE-1', aliases: [1] }, status: 'fixed' }] },
      'statements[0].vulnerability.aliases[0]: must be a string',
    ],
    ['CSAF', { document: { category: 'csaf_vex' }, product_tree: {} }, 'x.json: CSAF VEX is not supported'],
    ['other JSON', { hello: 'world' }, 'x.json: not a VEX document'],
  ];
  it.each(BAD)('rejects %s with ENG_POLICY_INVALID', (_why, doc, message) => {
    expect(() => parseVex(JSON.stringify(doc), 'x.json')).toThrowError(
      expect.objectContaining({ code: 'ENG_POLICY_INVALID', message: expect.stringContaining(message) }),
    );
  });

  it('rejects text that is not JSON or not UTF-8', () => {
    expect(() => parseVex('{"statements": [', 'x')).toThrowError(
      expect.objectContaining({ code: 'ENG_POLICY_INVALID' }),
    );
    expect(() => parseVex(new Uint8Array([0x7b, 0xff, 0x7d]), 'x')).toThrowError(
      expect.objectContaining({ code: 'ENG_POLICY_INVALID', message: 'x: not UTF-8 text' }),
    );
  });
});

describe('CycloneDX VEX', () => {
  it('maps analysis states, references as aliases, BOM-Links, bom-refs; skips plain vulnerabilities', async () => {
    const doc = await readVexFile(join(TESTDATA, 'cyclonedx-vex.json'));
    expect(
      doc.statements.map((s) => [s.vulnerability, s.ids, s.status, s.rawStatus, s.products, s.timestamp]),
    ).toEqual([
      [
        'CVE-2019-1551',
        ['CVE-2019-1551'],
        'not_affected',
        'false_positive',
        [{ ids: ['pkg:apk/alpine/libssl1.1@1.1.1c-r0?arch=x86_64&distro=alpine-3.10.4'], subcomponents: [] }],
        '2024-06-01T09:00:00Z',
      ],
      [
        'CVE-2020-8203',
        ['CVE-2020-8203', 'GHSA-p6mc-m468-83gw'],
        'fixed',
        'resolved',
        [
          {
            ids: [
              'urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg%3Anpm%2Flodash%404.17.15%3Fpackage-id%3D2f1c',
              'pkg:npm/lodash@4.17.15?package-id=2f1c',
            ],
            subcomponents: [],
          },
        ],
        '2024-05-30T00:00:00Z',
      ],
      [
        'CVE-2019-14697',
        ['CVE-2019-14697'],
        'affected',
        'exploitable',
        [{ ids: ['pkg:apk/alpine/musl@1.1.22-r3'], subcomponents: [] }],
        '2024-06-01T09:00:00Z',
      ],
      [
        'CVE-2019-1563',
        ['CVE-2019-1563'],
        'not_affected',
        'not_affected',
        [{ ids: ['component-42'], subcomponents: [] }],
        '2024-06-01T09:00:00Z',
      ],
    ]);
    expect([doc.format, doc.id]).toEqual(['cyclonedx', 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79']);
  });

  it('suppresses by purl, by BOM-Link to a purl bom-ref (package-id ignored) and by SBOM bom-ref', async () => {
    const doc = await readVexFile(join(TESTDATA, 'cyclonedx-vex.json'));
    const fromSbom: Package = { ...libcrypto, metadata: { bomRef: 'component-42' } };
    const input = [...findings, finding('CVE-2019-1563', fromSbom)];
    const r = applyVex(input, [doc]);
    expect({
      kept: r.kept.map(label),
      suppressed: r.suppressed.map((s) => `${label(s.finding)}: ${s.statement.rawStatus}`),
    }).toEqual({
      kept: [
        'CVE-2019-14697 musl@1.1.22-r3',
        'CVE-2019-1547 libcrypto1.1@1.1.1c-r0',
        'CVE-2019-1547 libssl1.1@1.1.1c-r0',
        // CVE-2019-1549 has no analysis in the document
        'CVE-2019-1549 libssl1.1@1.1.1c-r0',
        // component-42 is not this package's bom-ref (it has none)
        'CVE-2019-1563 libcrypto1.1@1.1.1c-r0',
      ],
      suppressed: [
        'CVE-2020-8203 lodash@4.17.15: resolved',
        'CVE-2019-1551 libssl1.1@1.1.1c-r0: false_positive',
        'CVE-2019-1563 libcrypto1.1@1.1.1c-r0: not_affected',
      ],
    });
  });

  it('rejects an unknown analysis state and an affects entry without ref', () => {
    const bom = (v: unknown) =>
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', vulnerabilities: [v] });
    expect(() => parseVex(bom({ id: 'CVE-1', analysis: { state: 'fine' } }), 'v.cdx.json')).toThrowError(
      expect.objectContaining({
        code: 'ENG_POLICY_INVALID',
        message: expect.stringContaining(
          'v.cdx.json: vulnerabilities[0].analysis.state: unknown state "fine"',
        ),
      }),
    );
    expect(() =>
      parseVex(bom({ id: 'CVE-1', analysis: { state: 'resolved' }, affects: [{}] }), 'v'),
    ).toThrowError(
      expect.objectContaining({
        code: 'ENG_POLICY_INVALID',
        message: expect.stringContaining('vulnerabilities[0].affects[0]: an affects entry needs a ref'),
      }),
    );
  });
});

describe.skipIf(!hasRealdata)('OpenVEX from Canonical (realdata)', () => {
  const path = realdata('feeds/ubuntu/vunnel-vex-CVE-2023-38545.json');
  const deb = (name: string, version: string, distro: string): Package => ({
    name,
    version,
    ecosystem: 'deb',
    arch: 'amd64',
    foundBy: 'os/dpkg',
    purl: `pkg:deb/ubuntu/${name}@${encodeURIComponent(version)}?arch=amd64&distro=${encodeURIComponent(distro)}`,
  });

  it('reads the three statements and applies them by product purl', async () => {
    const doc = await readVexFile(path);
    // counted in the file: fixed (149 products), affected (113), not_affected (356); aliases are all URLs
    expect(doc.statements.map((s) => [s.status, s.products.length, s.ids])).toEqual([
      ['fixed', 149, ['CVE-2023-38545']],
      ['affected', 113, ['CVE-2023-38545']],
      ['not_affected', 356, ['CVE-2023-38545']],
    ]);
    const input = [
      // listed under "fixed" as pkg:deb/ubuntu/libcurl4@7.81.0-1ubuntu1.24?arch=amd64&distro=jammy
      finding('CVE-2023-38545', deb('libcurl4', '7.81.0-1ubuntu1.24', 'jammy')),
      // listed under "not_affected" with distro=esm-infra/focal
      finding('CVE-2023-38545', deb('libcurl4', '7.68.0-1ubuntu2.25+esm3', 'esm-infra/focal')),
      // the same package as Vigil writes its purl (distro=ubuntu-20.04): the VEX pins distro=esm-infra/focal
      finding('CVE-2023-38545', deb('libcurl4', '7.68.0-1ubuntu2.25+esm3', 'ubuntu-20.04')),
      // listed under "affected" (xenial curl)
      finding('CVE-2023-38545', deb('curl', '7.47.0-1ubuntu2.19', 'xenial')),
    ];
    const r = applyVex(input, [doc]);
    expect({
      kept: r.kept.map((f) => f.package.purl),
      suppressed: r.suppressed.map((s) => [s.finding.package.purl, s.statement.status]),
    }).toEqual({
      kept: [input[2]!.package.purl, input[3]!.package.purl],
      suppressed: [
        [input[0]!.package.purl, 'fixed'],
        [input[1]!.package.purl, 'not_affected'],
      ],
    });
  });
});
