import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { ScanResult } from '../model/index.js';
import { toSpdx } from './index.js';
import { spdxIdPart } from './spdx.js';
import {
  ALPINE_DIGEST,
  ALPINE_LAYER,
  DEBIAN_CONFIG,
  alpineScan,
  debianScan,
  mixedScan,
} from './testdata/scans.js';
import { packageId } from './unique-ids.js';

// official SPDX 2.3 JSON schema (draft-07), see schemas/README.md
const schema = JSON.parse(readFileSync(new URL('./schemas/spdx-schema-2.3.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);
const FIXED = { created: '2024-03-01T10:00:03.250Z', namespace: 'https://vigil.invalid/spdx/test/doc-1' };
const SPDX_ID = /^SPDXRef-[A-Za-z0-9.-]+$/;

interface SpdxPkg {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  licenseDeclared: string;
  primaryPackagePurpose?: string;
  externalRefs?: { referenceLocator: string }[];
  annotations?: { comment: string }[];
}
interface SpdxDoc {
  packages: SpdxPkg[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
  [key: string]: unknown;
}
const render = (scan: ScanResult): SpdxDoc => JSON.parse(toSpdx(scan, FIXED)) as SpdxDoc;

/** The rules the JSON schema cannot express: id syntax, unique ids, relationships resolve. */
function checkIds(doc: SpdxDoc): string[] {
  const ids = doc.packages.map((p) => p.SPDXID);
  const known = new Set(['SPDXRef-DOCUMENT', ...ids]);
  return [
    ...ids.filter((id) => !SPDX_ID.test(id)).map((id) => `bad id ${id}`),
    ...(new Set(ids).size === ids.length ? [] : ['duplicate ids']),
    ...doc.relationships
      .flatMap((r) => [r.spdxElementId, r.relatedSpdxElement])
      .filter((id) => !known.has(id))
      .map((id) => `dangling ${id}`),
  ];
}

describe('toSpdx', () => {
  it.each([
    ['alpine', alpineScan],
    ['debian', debianScan],
    ['mixed', mixedScan],
  ])('%s: valid against the SPDX 2.3 schema, ids well-formed and resolvable', (_name, scan) => {
    const doc = render(scan());
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    expect(checkIds(doc)).toEqual([]);
  });

  it('the schema does reject what it should (the hyphenated purpose of the tag-value format)', () => {
    const doc = render(alpineScan());
    doc.packages[1]!.primaryPackagePurpose = 'OPERATING-SYSTEM';
    expect(validate(doc)).toBe(false);
  });

  it('alpine: document, artifact, OS and package entries', () => {
    const doc = render(alpineScan());
    const { packages, relationships, ...head } = doc;
    expect(head).toEqual({
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: 'alpine:3.19',
      documentNamespace: FIXED.namespace,
      creationInfo: { created: '2024-03-01T10:00:03Z', creators: ['Tool: vigil-0.1.0'] },
    });
    const none = {
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
    };
    const note = (comment: string) => ({
      annotationDate: '2024-03-01T10:00:03Z',
      annotationType: 'OTHER',
      annotator: 'Tool: vigil-0.1.0',
      comment,
    });
    expect(packages.slice(0, 3)).toEqual([
      {
        SPDXID: 'SPDXRef-Artifact',
        name: 'alpine:3.19',
        versionInfo: ALPINE_DIGEST,
        ...none,
        licenseDeclared: 'NOASSERTION',
        primaryPackagePurpose: 'CONTAINER',
        externalRefs: [
          {
            referenceCategory: 'PACKAGE-MANAGER',
            referenceType: 'purl',
            referenceLocator: `pkg:oci/alpine@${ALPINE_DIGEST}?repository_url=docker.io%2Flibrary%2Falpine&tag=3.19`,
          },
        ],
      },
      {
        SPDXID: 'SPDXRef-OperatingSystem',
        name: 'alpine',
        versionInfo: '3.19.1',
        ...none,
        licenseDeclared: 'NOASSERTION',
        primaryPackagePurpose: 'OPERATING_SYSTEM',
        description: 'Alpine Linux v3.19',
      },
      {
        SPDXID: 'SPDXRef-Package-apk-busybox',
        name: 'busybox',
        versionInfo: '1.36.1-r15',
        ...none,
        licenseDeclared: 'GPL-2.0-only',
        sourceInfo: 'found by os/apk in lib/apk/db/installed',
        externalRefs: [
          {
            referenceCategory: 'PACKAGE-MANAGER',
            referenceType: 'purl',
            referenceLocator: 'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1',
          },
        ],
        annotations: [
          note('vigil:foundBy=os/apk'),
          note(`vigil:layer=${ALPINE_LAYER}`),
          note('vigil:path=lib/apk/db/installed'),
          note('vigil:srcName=busybox'),
        ],
      },
    ]);
    expect(packages.map((p) => [p.SPDXID, p.licenseDeclared])).toEqual([
      ['SPDXRef-Artifact', 'NOASSERTION'],
      ['SPDXRef-OperatingSystem', 'NOASSERTION'],
      ['SPDXRef-Package-apk-busybox', 'GPL-2.0-only'],
      ['SPDXRef-Package-apk-ca-certificates-bundle', 'MPL-2.0 AND MIT'],
      ['SPDXRef-Package-apk-libcrypto3', 'Apache-2.0'],
      ['SPDXRef-Package-apk-musl', 'MIT'],
    ]);
    expect(relationships).toEqual([
      {
        spdxElementId: 'SPDXRef-DOCUMENT',
        relationshipType: 'DESCRIBES',
        relatedSpdxElement: 'SPDXRef-Artifact',
      },
      ...packages.slice(1).map((p) => ({
        spdxElementId: 'SPDXRef-Artifact',
        relationshipType: 'CONTAINS',
        relatedSpdxElement: p.SPDXID,
      })),
    ]);
  });

  it('debian: declared licenses joined with AND, NOASSERTION when one is not SPDX; config digest as version', () => {
    const doc = render(debianScan());
    expect(doc.packages[0]).toMatchObject({
      SPDXID: 'SPDXRef-Artifact',
      versionInfo: DEBIAN_CONFIG,
      primaryPackagePurpose: 'CONTAINER',
    });
    expect(doc.packages[0]!.externalRefs).toBeUndefined();
    expect(doc.packages.map((p) => [p.name, p.versionInfo, p.licenseDeclared])).toEqual([
      ['debian-12.tar', DEBIAN_CONFIG, 'NOASSERTION'],
      ['debian', '12.5', 'NOASSERTION'],
      ['base-files', '12.4+deb12u5', 'NOASSERTION'],
      ['bash', '5.2.15-2+b2', 'NOASSERTION'],
      ['libbz2-1.0', '1.0.8-5+b1', 'NOASSERTION'],
      ['libc6', '2.36-9+deb12u4', 'LGPL-2.1-or-later AND GPL-2.0-or-later'],
      ['libgmp10', '2:6.2.1+dfsg1-1.1', 'NOASSERTION'],
    ]);
    expect(doc.packages.find((p) => p.name === 'bash')!.annotations!.map((a) => a.comment)).toContain(
      'vigil:srcVersion=5.2.15-2',
    );
  });

  it('mixed: ids reduced to the SPDX alphabet, hashed only where two collide; no OS package', () => {
    const scan = mixedScan();
    const doc = render(scan);
    const [nested, top] = [...scan.packages.filter((p) => p.name === 'lodash')].sort((a, b) =>
      a.path! < b.path! ? -1 : 1,
    );
    expect(doc.packages.map((p) => [p.SPDXID, p.primaryPackagePurpose, p.licenseDeclared])).toEqual([
      ['SPDXRef-Artifact', 'OTHER', 'NOASSERTION'],
      ['SPDXRef-Package-golang-github.com-spf13-cobra', undefined, 'NOASSERTION'],
      ['SPDXRef-Package-golang-stdlib', undefined, 'NOASSERTION'],
      ['SPDXRef-Package-maven-org.apache.logging.log4j-log4j-core', undefined, 'Apache-2.0'],
      ['SPDXRef-Package-npm-babel-core', undefined, 'MIT'],
      [`SPDXRef-Package-npm-lodash-${packageId(nested!)}`, undefined, 'MIT'],
      [`SPDXRef-Package-npm-lodash-${packageId(top!)}`, undefined, 'MIT'],
      ['SPDXRef-Package-pypi-cryptography', undefined, 'Apache-2.0 OR BSD-3-Clause'],
      ['SPDXRef-Package-pypi-typing-extensions', undefined, 'PSF-2.0'],
    ]);
  });

  it('is deterministic for fixed created/namespace, whatever the package order', () => {
    const reversed = debianScan();
    reversed.packages.reverse();
    expect(toSpdx(reversed, FIXED)).toBe(toSpdx(debianScan(), FIXED));
  });

  it('defaults: a fresh namespace under vigil.invalid and the current time', () => {
    const a = JSON.parse(toSpdx(alpineScan())) as {
      documentNamespace: string;
      creationInfo: { created: string };
    };
    const b = JSON.parse(toSpdx(alpineScan())) as { documentNamespace: string };
    expect(a.documentNamespace).toMatch(
      /^https:\/\/vigil\.invalid\/spdx\/registry\/alpine%3A3\.19-[0-9a-f-]{36}$/,
    );
    expect(a.documentNamespace).not.toBe(b.documentNamespace);
    expect(a.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('survives hostile package content and stays valid', () => {
    const scan = mixedScan();
    scan.packages.push(
      { name: '', version: '', ecosystem: 'npm', foundBy: 'lang/npm' },
      { name: '...', version: '1', ecosystem: 'npm', foundBy: 'lang/npm' },
      { name: 'ü/ß', version: '\u2603', ecosystem: 'cargo', licenses: ['MIT AND'], foundBy: 'lang/cargo' },
    );
    const doc = render(scan);
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    expect(checkIds(doc)).toEqual([]);
  });
});

describe('spdxIdPart', () => {
  it.each([
    ['@babel/core', 'babel-core'],
    ['org.apache:log4j', 'org.apache-log4j'],
    ['typing_extensions', 'typing-extensions'],
    ['ü/ß', 'x'],
    ['', 'x'],
  ])('%s → %s', (input, expected) => {
    expect(spdxIdPart(input)).toBe(expected);
  });
});
