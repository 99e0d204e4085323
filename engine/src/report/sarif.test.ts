import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { ScanResult, VulnerabilityScanResult } from '../model/index.js';
import { toSarif } from './index.js';
import { alpineResult, emptyResult, hostileResult, mixedResult } from './testdata/results.js';
import { alpineScan, debianScan } from './testdata/scans.js';

// official OASIS SARIF 2.1.0 schema (draft-07), see schemas/README.md
const schema = JSON.parse(
  readFileSync(new URL('./schemas/sarif-schema-2.1.0.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv({ allErrors: true, strictRequired: false });
addFormats.default(ajv);
const validate = ajv.compile(schema);

interface Sarif {
  runs: {
    tool: {
      driver: {
        rules: { id: string; properties: Record<string, unknown>; defaultConfiguration: { level: string } }[];
      };
    };
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
      partialFingerprints: Record<string, string>;
      suppressions?: unknown[];
    }[];
    properties: Record<string, unknown>;
  }[];
}
const parse = (r: Parameters<typeof toSarif>[0]): Sarif => JSON.parse(toSarif(r)) as Sarif;

describe('toSarif', () => {
  it.each([
    ['alpine', alpineResult],
    ['mixed', mixedResult],
    ['empty', emptyResult],
    ['hostile', hostileResult],
    ['inventory alpine', alpineScan],
    ['inventory debian', debianScan],
  ])('%s: valid against the SARIF 2.1.0 schema', (_name, make) => {
    const log: unknown = JSON.parse(toSarif(make()));
    validate(log);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('the schema does reject a broken log', () => {
    const log = parse(alpineResult()) as unknown as { runs: { results: { level: string }[] }[] };
    log.runs[0]!.results[0]!.level = 'critical';
    expect(validate(log)).toBe(false);
  });

  it('whole document: a rule per id with help, a result per (package, vulnerability), fingerprints', () => {
    const mixed = mixedResult();
    const result: VulnerabilityScanResult = {
      ...mixed,
      findings: mixed.findings.filter((f) => f.id === 'CVE-2021-44228' || f.id === 'GHSA-2222-3333-4444'),
    };
    // fingerprints: sha256 of ["<id>","<ecosystem>","<name>","<path>"], checked with sha256sum
    expect(JSON.parse(toSarif(result))).toMatchInlineSnapshot(`
      {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
          {
            "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {
              "ROOTPATH": {
                "uri": "file:///",
              },
            },
            "properties": {
              "artifactKind": "rootfs",
              "artifactName": "/srv/app",
              "db": {
                "builtAt": "2024-05-01T00:00:00Z",
                "version": "v1-3f2a9c",
              },
            },
            "results": [
              {
                "level": "error",
                "locations": [
                  {
                    "logicalLocations": [
                      {
                        "fullyQualifiedName": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                        "kind": "package",
                        "name": "org.apache.logging.log4j:log4j-core",
                      },
                    ],
                    "message": {
                      "text": "app/lib/log4j-core-2.14.1.jar: org.apache.logging.log4j:log4j-core@2.14.1",
                    },
                    "physicalLocation": {
                      "artifactLocation": {
                        "uri": "app/lib/log4j-core-2.14.1.jar",
                        "uriBaseId": "ROOTPATH",
                      },
                      "region": {
                        "endColumn": 1,
                        "endLine": 1,
                        "startColumn": 1,
                        "startLine": 1,
                      },
                    },
                  },
                ],
                "message": {
                  "text": "Package: org.apache.logging.log4j:log4j-core
      Installed Version: 2.14.1
      Vulnerability: CVE-2021-44228
      Severity: CRITICAL
      Status: fixed
      Fixed Version: 2.15.0
      Path: app/lib/log4j-core-2.14.1.jar",
                },
                "partialFingerprints": {
                  "primaryLocationLineHash": "1c9246718c9fec3e9394a13b843a7df77ae9705ec50d113ca6aa8ed0353a48a6",
                  "vigil/v1": "1c9246718c9fec3e9394a13b843a7df77ae9705ec50d113ca6aa8ed0353a48a6",
                },
                "properties": {
                  "epss": 0.97565,
                  "fixedVersion": "2.15.0",
                  "installedVersion": "2.14.1",
                  "kev": true,
                  "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                  "status": "fixed",
                },
                "ruleId": "CVE-2021-44228",
                "ruleIndex": 0,
              },
              {
                "level": "warning",
                "locations": [
                  {
                    "logicalLocations": [
                      {
                        "fullyQualifiedName": "pkg:pypi/requests@2.25.0",
                        "kind": "package",
                        "name": "requests",
                      },
                    ],
                    "message": {
                      "text": "app/requirements.txt: requests@2.25.0",
                    },
                    "physicalLocation": {
                      "artifactLocation": {
                        "uri": "app/requirements.txt",
                        "uriBaseId": "ROOTPATH",
                      },
                      "region": {
                        "endColumn": 1,
                        "endLine": 1,
                        "startColumn": 1,
                        "startLine": 1,
                      },
                    },
                  },
                ],
                "message": {
                  "text": "Package: requests
      Installed Version: 2.25.0
      Vulnerability: GHSA-2222-3333-4444
      Severity: MEDIUM
      Status: fixed
      Fixed Version: 2.31.0
      Path: app/requirements.txt",
                },
                "partialFingerprints": {
                  "primaryLocationLineHash": "219a04a666384b11db935d61c7062018774d5c152bb5deb6148e42b9da87c4e3",
                  "vigil/v1": "219a04a666384b11db935d61c7062018774d5c152bb5deb6148e42b9da87c4e3",
                },
                "properties": {
                  "epss": null,
                  "fixedVersion": "2.31.0",
                  "installedVersion": "2.25.0",
                  "kev": false,
                  "purl": "pkg:pypi/requests@2.25.0",
                  "status": "fixed",
                },
                "ruleId": "GHSA-2222-3333-4444",
                "ruleIndex": 1,
              },
            ],
            "tool": {
              "driver": {
                "fullName": "Vigil vulnerability scanner",
                "name": "vigil",
                "rules": [
                  {
                    "defaultConfiguration": {
                      "level": "error",
                    },
                    "fullDescription": {
                      "text": "Remote code injection in Log4j",
                    },
                    "help": {
                      "markdown": "**Vulnerability [CVE-2021-44228](https://nvd.nist.gov/vuln/detail/CVE-2021-44228)** Remote code injection in Log4j

      - Severity: CRITICAL (cvss:nvd@&#8203;nist.gov)
      - CVSS 3.1 10.0 (CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H, nvd@&#8203;nist.gov)
      - Known exploited: yes (CISA KEV)
      - EPSS 97.6%, percentile 0.99996
      - Aliases: GHSA-jfh8-c2jp-5v3q
      - Weaknesses: CWE-502, CWE-917

      #### References
      - [https\\://logging.apache.org/log4j/2.x/security.html](https://logging.apache.org/log4j/2.x/security.html)",
                      "text": "Vulnerability CVE-2021-44228: Remote code injection in Log4j
      Severity: CRITICAL (cvss:nvd@nist.gov)
      CVSS 3.1 10.0 (CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H, nvd@nist.gov)
      Known exploited: yes (CISA KEV)
      EPSS 97.6%, percentile 0.99996
      Aliases: GHSA-jfh8-c2jp-5v3q
      Weaknesses: CWE-502, CWE-917

      References:
      - https://logging.apache.org/log4j/2.x/security.html",
                    },
                    "helpUri": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
                    "id": "CVE-2021-44228",
                    "name": "LanguagePackageVulnerability",
                    "properties": {
                      "precision": "very-high",
                      "security-severity": "10.0",
                      "tags": [
                        "vulnerability",
                        "security",
                        "CRITICAL",
                      ],
                    },
                    "shortDescription": {
                      "text": "Remote code injection in Log4j",
                    },
                  },
                  {
                    "defaultConfiguration": {
                      "level": "warning",
                    },
                    "fullDescription": {
                      "text": "requests leaks Proxy-Authorization headers",
                    },
                    "help": {
                      "markdown": "**Vulnerability [GHSA-2222-3333-4444](https://github.com/advisories/GHSA-2222-3333-4444)** requests leaks Proxy-Authorization headers

      - Severity: MEDIUM (vendor:ghsa)",
                      "text": "Vulnerability GHSA-2222-3333-4444: requests leaks Proxy-Authorization headers
      Severity: MEDIUM (vendor:ghsa)",
                    },
                    "helpUri": "https://github.com/advisories/GHSA-2222-3333-4444",
                    "id": "GHSA-2222-3333-4444",
                    "name": "LanguagePackageVulnerability",
                    "properties": {
                      "precision": "very-high",
                      "security-severity": "5.5",
                      "tags": [
                        "vulnerability",
                        "security",
                        "MEDIUM",
                      ],
                    },
                    "shortDescription": {
                      "text": "requests leaks Proxy-Authorization headers",
                    },
                  },
                ],
                "semanticVersion": "0.1.0",
                "version": "0.1.0",
              },
            },
          },
        ],
        "version": "2.1.0",
      }
    `);
  });

  it('alpine: one rule per id (10 ids, 11 results), levels and security-severity from the severity', () => {
    const run = parse(alpineResult()).runs[0]!;
    const rules = run.tool.driver.rules;
    expect(rules.map((r) => [r.id, r.defaultConfiguration.level, r.properties['security-severity']])).toEqual(
      [
        ['CVE-2019-14697', 'note', undefined], // UNKNOWN, no CVSS: no security-severity
        ['CVE-2020-1967', 'error', '7.5'],
        ['CVE-2020-28928', 'warning', '5.5'],
        ['CVE-2021-23839', 'note', '3.7'],
        ['CVE-2021-28831', 'error', '7.5'],
        ['CVE-2021-30139', 'error', '7.5'],
        ['CVE-2021-36159', 'error', '9.1'],
        ['CVE-2021-3711', 'error', '9.8'],
        ['CVE-2021-42374', 'warning', '5.3'],
        ['CVE-2022-37434', 'error', '9.8'],
      ],
    );
    const busybox = run.results.filter((r) => r.ruleId === 'CVE-2021-28831');
    expect(busybox.map((r) => [r.ruleIndex, r.level])).toEqual([
      [4, 'error'],
      [4, 'error'],
    ]);
    // OS packages are located at the image repository (of the archive's repo tag alpine:3.10)
    expect(new Set(run.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation.uri))).toEqual(
      new Set(['alpine']),
    );
    // the not-affected finding is reported as suppressed
    expect(run.results.filter((r) => r.suppressions).map((r) => r.ruleId)).toEqual(['CVE-2019-14697']);
    expect(run.properties).toEqual({
      artifactName: 'images/alpine-3.10.tar',
      artifactKind: 'docker-archive',
      digest: `sha256:${'a'.repeat(64)}`,
      repoTags: ['alpine:3.10'],
      os: { family: 'alpine', version: '3.10.4' },
      db: { version: 'v1-3f2a9c', builtAt: '2024-05-01T00:00:00Z' },
      warnings: [
        { code: 'DISTRO_EOL', message: 'alpine 3.10 is end-of-life: its security data is no longer updated' },
      ],
    });
  });

  it('fingerprints: unique per (id, package, location), unchanged by an upgrade of the package', () => {
    const run = parse(alpineResult()).runs[0]!;
    const prints = run.results.map((r) => r.partialFingerprints['vigil/v1']);
    expect(new Set(prints).size).toBe(prints.length);
    const upgraded = alpineResult();
    upgraded.findings = upgraded.findings.map((f) => ({
      ...f,
      installedVersion: `${f.installedVersion}.1`,
      package: { ...f.package, version: `${f.package.version}.1` },
    }));
    expect(parse(upgraded).runs[0]!.results.map((r) => r.partialFingerprints['vigil/v1'])).toEqual(prints);
  });

  it('locations: language packages at their file, percent-encoded; registry image names lose tag and digest', () => {
    const hostile = parse(hostileResult()).runs[0]!;
    expect(
      hostile.results.find((r) => r.ruleId === 'CVE-2024-0001')!.locations[0]!.physicalLocation
        .artifactLocation.uri,
    ).toBe('app/%3Cweird%3E%20dir/%C3%BC%7C&.json');
    const uriOf = ([name, kind, repoTags]: [string, ScanResult['artifact']['kind'], string[]?]) => {
      const r = alpineResult();
      r.artifact = { name, kind, ...(repoTags ? { repoTags } : {}) };
      return parse(r).runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri;
    };
    const cases: [string, ScanResult['artifact']['kind'], string[]?][] = [
      ['localhost:5000/team/app:1.2@sha256:abc', 'registry'],
      ['ghcr.io/o/r@sha256:abc', 'registry'],
      ['/tmp/image.tar', 'docker-archive', ['ghcr.io/o/r:7']],
      ['/tmp/rootfs', 'rootfs'],
      ['C:\\images\\a.tar', 'oci-layout'],
    ];
    // a ':' in the first segment would read as a URI scheme: it is encoded
    expect(cases.map(uriOf)).toEqual([
      'localhost%3A5000/team/app',
      'ghcr.io/o/r',
      'ghcr.io/o/r',
      'tmp/rootfs',
      'C%3A%5Cimages%5Ca.tar',
    ]);
  });

  it('an inventory has one run with no rules and no results', () => {
    const run = parse(alpineScan()).runs[0]!;
    expect([run.tool.driver.rules, run.results]).toEqual([[], []]);
  });
});
