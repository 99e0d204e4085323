import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Finding as EngineFinding, ScannedArtifact } from '@vigil/engine/core';
import {
  ArtifactKind,
  ArtifactSchema,
  DataSourceSchema,
  FindingCvssSchema,
  FindingSchema,
  FixState,
  KevEntrySchema,
  LayerSchema,
  MatchWarningSchema,
  OsReleaseSchema,
  PackageSchema,
  Severity,
  SeverityCountsSchema,
  UnknownSchema,
  VendorSeveritySchema,
} from '@vigil/proto/v1/model_pb';
import { describe, expect, it } from 'vitest';
import {
  toProtoArtifact,
  toProtoFinding,
  toProtoOs,
  toProtoUnknown,
  toProtoWarning,
  toSeverityCounts,
} from './mapping.js';

const LAYER = 'sha256:531743b7098cb2aaf615641007a129173f63ed86ca32fe7b5a246a1c47286028';

// as matched from the realdata alpine:3.10 docker-archive against the realdata feeds
const apkFinding: EngineFinding = {
  id: 'CVE-2021-36159',
  aliases: [],
  package: {
    name: 'apk-tools',
    version: '2.10.4-r2',
    ecosystem: 'apk',
    srcName: 'apk-tools',
    srcVersion: '2.10.4-r2',
    foundBy: 'os/apk',
    arch: 'x86_64',
    licenses: ['GPL2'],
    path: 'lib/apk/db/installed',
    layer: LAYER,
    purl: 'pkg:apk/alpine/apk-tools@2.10.4-r2?arch=x86_64&distro=alpine-3.10.4',
  },
  installedVersion: '2.10.4-r2',
  fixedVersion: '2.10.7-r0',
  status: 'fixed',
  severity: 'CRITICAL',
  severitySource: 'cvss:nvd',
  cvss: {
    version: '3.1',
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H',
    score: 9.1,
    source: 'nvd@nist.gov',
  },
  kev: false,
  epss: null,
  epssPercentile: null,
  references: ['https://gitlab.alpinelinux.org/alpine/apk-tools/-/issues/10749'],
  cwes: ['CWE-125'],
  dataSources: [{ source: 'alpine', namespace: 'alpine:3.10', advisoryId: 'CVE-2021-36159' }],
  description:
    'libfetch before 2021-07-26, as used in apk-tools, xbps, and other products, mishandles numeric strings',
  published: '2021-08-03T14:15:08.233Z',
};

// a language finding with everything optional set: GHSA alias, vendor rating, KEV entry, EPSS, metadata
const log4jFinding: EngineFinding = {
  id: 'CVE-2021-44228',
  aliases: ['GHSA-jfh8-c2jp-5v3q'],
  package: {
    name: 'org.apache.logging.log4j:log4j-core',
    version: '2.14.1',
    ecosystem: 'maven',
    purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
    foundBy: 'lang/java-archive',
    path: 'app/lib/log4j-core-2.14.1.jar',
    layer: LAYER,
    declared: false,
    dev: false,
    metadata: { groupId: 'org.apache.logging.log4j', shaded: false, manifestVersion: null, depth: 1 },
  },
  installedVersion: '2.14.1',
  fixedVersion: null,
  status: 'unfixed',
  severity: 'CRITICAL',
  severitySource: 'cvss:nvd',
  cvss: {
    version: '3.1',
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
    score: 10,
    source: 'nvd@nist.gov',
  },
  vendorSeverity: { source: 'ghsa', rating: 'CRITICAL', severity: 'CRITICAL' },
  kev: true,
  kevEntry: {
    cveId: 'CVE-2021-44228',
    dateAdded: '2021-12-10',
    dueDate: '2021-12-24',
    knownRansomwareCampaignUse: 'Known',
    vendorProject: 'Apache',
    product: 'Log4j2',
    name: 'Apache Log4j2 Remote Code Execution Vulnerability',
  },
  epss: 0.94358,
  epssPercentile: 0.99957,
  title: 'Remote code injection in Log4j',
  references: ['https://logging.apache.org/log4j/2.x/security.html'],
  cwes: ['CWE-20', 'CWE-400', 'CWE-502'],
  dataSources: [{ source: 'ghsa', namespace: 'maven', advisoryId: 'GHSA-jfh8-c2jp-5v3q' }],
  published: '2021-12-10T10:15:09.143Z',
};

describe('engine → proto mapping', () => {
  it('maps an OS package finding field for field, leaving absent optionals unset', () => {
    expect(toProtoFinding(apkFinding)).toEqual(
      create(FindingSchema, {
        id: 'CVE-2021-36159',
        aliases: [],
        package: create(PackageSchema, {
          name: 'apk-tools',
          version: '2.10.4-r2',
          ecosystem: 'apk',
          purl: 'pkg:apk/alpine/apk-tools@2.10.4-r2?arch=x86_64&distro=alpine-3.10.4',
          srcName: 'apk-tools',
          srcVersion: '2.10.4-r2',
          arch: 'x86_64',
          licenses: ['GPL2'],
          layer: LAYER,
          path: 'lib/apk/db/installed',
          foundBy: 'os/apk',
        }),
        installedVersion: '2.10.4-r2',
        fixedVersion: '2.10.7-r0',
        status: FixState.FIXED,
        severity: Severity.CRITICAL,
        severitySource: 'cvss:nvd',
        cvss: create(FindingCvssSchema, {
          version: '3.1',
          vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H',
          score: 9.1,
          source: 'nvd@nist.gov',
        }),
        kev: false,
        references: ['https://gitlab.alpinelinux.org/alpine/apk-tools/-/issues/10749'],
        cwes: ['CWE-125'],
        published: '2021-08-03T14:15:08.233Z',
        description:
          'libfetch before 2021-07-26, as used in apk-tools, xbps, and other products, mishandles numeric strings',
        dataSources: [
          create(DataSourceSchema, {
            source: 'alpine',
            namespace: 'alpine:3.10',
            advisoryId: 'CVE-2021-36159',
          }),
        ],
      }),
    );
  });

  it('maps a language finding with vendor rating, KEV entry, EPSS, no fix and package metadata', () => {
    expect(toProtoFinding(log4jFinding)).toEqual(
      create(FindingSchema, {
        id: 'CVE-2021-44228',
        aliases: ['GHSA-jfh8-c2jp-5v3q'],
        package: create(PackageSchema, {
          name: 'org.apache.logging.log4j:log4j-core',
          version: '2.14.1',
          ecosystem: 'maven',
          purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
          layer: LAYER,
          path: 'app/lib/log4j-core-2.14.1.jar',
          foundBy: 'lang/java-archive',
          declared: false,
          dev: false,
          metadata: { groupId: 'org.apache.logging.log4j', shaded: false, manifestVersion: null, depth: 1 },
        }),
        installedVersion: '2.14.1',
        status: FixState.UNFIXED,
        severity: Severity.CRITICAL,
        severitySource: 'cvss:nvd',
        cvss: create(FindingCvssSchema, {
          version: '3.1',
          vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
          score: 10,
          source: 'nvd@nist.gov',
        }),
        vendorSeverity: create(VendorSeveritySchema, {
          source: 'ghsa',
          rating: 'CRITICAL',
          severity: Severity.CRITICAL,
        }),
        kev: true,
        kevEntry: create(KevEntrySchema, {
          cveId: 'CVE-2021-44228',
          dateAdded: '2021-12-10',
          dueDate: '2021-12-24',
          knownRansomwareCampaignUse: 'Known',
          vendorProject: 'Apache',
          product: 'Log4j2',
          name: 'Apache Log4j2 Remote Code Execution Vulnerability',
        }),
        epss: 0.94358,
        epssPercentile: 0.99957,
        title: 'Remote code injection in Log4j',
        references: ['https://logging.apache.org/log4j/2.x/security.html'],
        cwes: ['CWE-20', 'CWE-400', 'CWE-502'],
        published: '2021-12-10T10:15:09.143Z',
        dataSources: [
          create(DataSourceSchema, { source: 'ghsa', namespace: 'maven', advisoryId: 'GHSA-jfh8-c2jp-5v3q' }),
        ],
      }),
    );
  });

  it('gives messages that survive the wire unchanged', () => {
    for (const finding of [apkFinding, log4jFinding]) {
      const message = toProtoFinding(finding);
      expect(fromBinary(FindingSchema, toBinary(FindingSchema, message))).toEqual(message);
    }
  });

  it('maps the artifact with 64-bit layer sizes, the OS release, unknowns and warnings', () => {
    const artifact: ScannedArtifact = {
      name: 'registry.example/alpine@sha256:' + 'a'.repeat(64),
      kind: 'registry',
      digest: 'sha256:' + 'a'.repeat(64),
      repoDigests: ['registry.example/alpine@sha256:' + 'a'.repeat(64)],
      configDigest: 'sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e',
      layers: [{ diffId: LAYER, digest: 'sha256:' + 'b'.repeat(64), size: 5_818_880 }, { diffId: LAYER }],
    };
    expect({
      artifact: toProtoArtifact(artifact),
      os: toProtoOs({
        family: 'alpine',
        version: '3.10.4',
        name: 'Alpine Linux',
        prettyName: 'Alpine Linux v3.10',
        source: 'etc/os-release',
      }),
      unknown: toProtoUnknown({
        path: 'usr/lib/jvm/broken.jar',
        message: 'zip: bad central directory',
        layer: LAYER,
        source: 'lang/java-archive',
      }),
      warning: toProtoWarning({
        code: 'VIGIL_OS_EOL',
        message: 'alpine 3.10.4 reached end of life on 2021-05-01',
      }),
    }).toEqual({
      artifact: create(ArtifactSchema, {
        name: 'registry.example/alpine@sha256:' + 'a'.repeat(64),
        kind: ArtifactKind.REGISTRY,
        digest: 'sha256:' + 'a'.repeat(64),
        repoDigests: ['registry.example/alpine@sha256:' + 'a'.repeat(64)],
        configDigest: 'sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e',
        layers: [
          create(LayerSchema, { diffId: LAYER, digest: 'sha256:' + 'b'.repeat(64), size: 5_818_880n }),
          create(LayerSchema, { diffId: LAYER }),
        ],
      }),
      os: create(OsReleaseSchema, {
        family: 'alpine',
        version: '3.10.4',
        name: 'Alpine Linux',
        prettyName: 'Alpine Linux v3.10',
        source: 'etc/os-release',
      }),
      unknown: create(UnknownSchema, {
        path: 'usr/lib/jvm/broken.jar',
        message: 'zip: bad central directory',
        layer: LAYER,
        source: 'lang/java-archive',
      }),
      warning: create(MatchWarningSchema, {
        code: 'VIGIL_OS_EOL',
        message: 'alpine 3.10.4 reached end of life on 2021-05-01',
      }),
    });
  });

  it.each([
    ['docker-archive', ArtifactKind.DOCKER_ARCHIVE],
    ['oci-layout', ArtifactKind.OCI_LAYOUT],
    ['rootfs', ArtifactKind.ROOTFS],
    ['sbom', ArtifactKind.SBOM],
  ] as const)('maps artifact kind %s', (kind, expected) => {
    expect(toProtoArtifact({ name: 'x', kind }).kind).toBe(expected);
  });

  it('counts findings per severity', () => {
    const severities = ['CRITICAL', 'HIGH', 'HIGH', 'MEDIUM', 'LOW', 'LOW', 'LOW', 'UNKNOWN'] as const;
    expect(toSeverityCounts(severities.map((severity) => ({ severity })))).toEqual(
      create(SeverityCountsSchema, { critical: 1, high: 2, medium: 1, low: 3, unknown: 1, total: 8 }),
    );
  });
});
