import { readFileSync } from 'node:fs';
import { XmlDocument, XsdValidator } from 'libxml2-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { toJunit } from './index.js';
import { HOSTILE, alpineResult, emptyResult, hostileResult, mixedResult } from './testdata/results.js';
import { alpineScan } from './testdata/scans.js';

// Jenkins xUnit's JUnit schema and the stricter Apache Ant one, see schemas/README.md
const validators = ['junit-10.xsd', 'junit-ant-windyroad.xsd'].map((f) => {
  const doc = XmlDocument.fromBuffer(readFileSync(new URL(`./schemas/${f}`, import.meta.url)));
  const validator = XsdValidator.fromDoc(doc);
  doc.dispose();
  return [f, validator] as const;
});
afterAll(() => validators.forEach(([, v]) => v.dispose()));

/** Parses (well-formedness) and validates against both schemas; returns the errors, [] when valid. */
function schemaErrors(xml: string): string[] {
  const doc = XmlDocument.fromString(xml);
  try {
    return validators.flatMap(([name, v]) => {
      try {
        v.validate(doc);
        return [];
      } catch (e) {
        return [`${name}: ${(e as Error).message}`];
      }
    });
  } finally {
    doc.dispose();
  }
}

describe('toJunit', () => {
  it.each([
    ['alpine', alpineResult],
    ['mixed', mixedResult],
    ['empty', emptyResult],
    ['hostile', hostileResult],
    ['inventory', alpineScan],
  ])('%s: well-formed and valid against the Jenkins and Ant JUnit schemas', (_name, make) => {
    expect(schemaErrors(toJunit(make()))).toEqual([]);
  });

  it('the schemas do reject a broken document', () => {
    const broken = toJunit(mixedResult()).replace('tests="1"', 'tests="one"').replace(' time="0">', '>');
    expect(schemaErrors(broken).map((e) => e.split(':')[0])).toEqual(['junit-ant-windyroad.xsd']);
    expect(() => XmlDocument.fromString('<testsuites><testsuite></testsuites>')).toThrow();
  });

  it('mixed: whole document, a suite per target, a failed test case per finding', () => {
    // timestamp: finishedAt 2024-05-02T08:00:01.500Z without zone and fraction (Ant schema)
    expect(toJunit(mixedResult())).toMatchInlineSnapshot(`
      "<?xml version="1.0" encoding="UTF-8"?>
      <testsuites>
        <testsuite name="app/lib/log4j-core-2.14.1.jar (maven)" package="app/lib/log4j-core-2.14.1.jar (maven)" id="0" tests="1" failures="1" errors="0" skipped="0" time="0" timestamp="2024-05-02T08:00:01" hostname="localhost">
          <properties>
            <property name="type" value="maven"/>
            <property name="artifact" value="/srv/app"/>
            <property name="db" value="v1-3f2a9c"/>
          </properties>
          <testcase classname="org.apache.logging.log4j:log4j-core-2.14.1" name="[CRITICAL] CVE-2021-44228" time="0">
            <failure message="Remote code injection in Log4j" type="description">Package: org.apache.logging.log4j:log4j-core
      Installed version: 2.14.1
      Fixed version: 2.15.0
      Status: fixed
      Path: app/lib/log4j-core-2.14.1.jar</failure>
          </testcase>
          <system-out>Total: 1 (CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)</system-out>
          <system-err></system-err>
        </testsuite>
        <testsuite name="app/package-lock.json (npm)" package="app/package-lock.json (npm)" id="1" tests="4" failures="4" errors="0" skipped="0" time="0" timestamp="2024-05-02T08:00:01" hostname="localhost">
          <properties>
            <property name="type" value="npm"/>
            <property name="artifact" value="/srv/app"/>
            <property name="db" value="v1-3f2a9c"/>
          </properties>
          <testcase classname="minimist-1.2.0" name="[CRITICAL] CVE-2021-44906" time="0">
            <failure message="Prototype Pollution in minimist" type="description">Package: minimist
      Installed version: 1.2.0
      Fixed version: 1.2.6
      Status: fixed
      Path: app/package-lock.json</failure>
          </testcase>
          <testcase classname="lodash-4.17.15" name="[HIGH] CVE-2020-8203" time="0">
            <failure message="Prototype Pollution in lodash" type="description">Package: lodash
      Installed version: 4.17.15
      Fixed version: 4.17.19
      Status: fixed
      Path: app/package-lock.json</failure>
          </testcase>
          <testcase classname="lodash-4.17.15" name="[HIGH] CVE-2021-23337" time="0">
            <failure message="Command Injection in lodash" type="description">Package: lodash
      Installed version: 4.17.15
      Fixed version: 4.17.21
      Status: fixed
      Path: app/package-lock.json</failure>
          </testcase>
          <testcase classname="minimist-1.2.0" name="[MEDIUM] CVE-2020-7598" time="0">
            <failure message="Prototype Pollution in minimist" type="description">Package: minimist
      Installed version: 1.2.0
      Fixed version: 1.2.2
      Status: fixed
      Path: app/package-lock.json</failure>
          </testcase>
          <system-out>Total: 4 (CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 0, UNKNOWN: 0)</system-out>
          <system-err></system-err>
        </testsuite>
        <testsuite name="app/requirements.txt (pypi)" package="app/requirements.txt (pypi)" id="2" tests="1" failures="1" errors="0" skipped="0" time="0" timestamp="2024-05-02T08:00:01" hostname="localhost">
          <properties>
            <property name="type" value="pypi"/>
            <property name="artifact" value="/srv/app"/>
            <property name="db" value="v1-3f2a9c"/>
          </properties>
          <testcase classname="requests-2.25.0" name="[MEDIUM] GHSA-2222-3333-4444" time="0">
            <failure message="requests leaks Proxy-Authorization headers" type="description">Package: requests
      Installed version: 2.25.0
      Fixed version: 2.31.0
      Status: fixed
      Path: app/requirements.txt</failure>
          </testcase>
          <system-out>Total: 1 (CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 0, UNKNOWN: 0)</system-out>
          <system-err></system-err>
        </testsuite>
        <testsuite name="usr/local/bin/app (golang)" package="usr/local/bin/app (golang)" id="3" tests="1" failures="1" errors="0" skipped="0" time="0" timestamp="2024-05-02T08:00:01" hostname="localhost">
          <properties>
            <property name="type" value="golang"/>
            <property name="artifact" value="/srv/app"/>
            <property name="db" value="v1-3f2a9c"/>
          </properties>
          <testcase classname="stdlib-v1.21.5" name="[MEDIUM] CVE-2023-45290" time="0">
            <failure message="Memory exhaustion in multipart form parsing in net/textproto and net/http" type="description">Package: stdlib
      Installed version: v1.21.5
      Fixed version: v1.21.8
      Status: fixed
      Path: usr/local/bin/app</failure>
          </testcase>
          <system-out>Total: 1 (CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 0, UNKNOWN: 0)</system-out>
          <system-err></system-err>
        </testsuite>
      </testsuites>"
    `);
  });

  it('alpine: the not-affected finding is skipped, the others fail; warnings in system-err', () => {
    const xml = toJunit(alpineResult());
    expect(xml).toContain(
      '<testsuite name="images/alpine-3.10.tar (alpine 3.10.4)" package="images/alpine-3.10.tar (alpine 3.10.4)" id="0" tests="11" failures="10" errors="0" skipped="1" time="0" timestamp="2024-05-01T12:00:03" hostname="localhost">',
    );
    expect(xml).toContain(
      '    <testcase classname="musl-1.1.22-r3" name="[UNKNOWN] CVE-2019-14697" time="0">\n      <skipped message="not affected: the vendor states this package is not affected"/>\n    </testcase>',
    );
    expect(xml).toContain(
      '<system-err>DISTRO_EOL: alpine 3.10 is end-of-life: its security data is no longer updated</system-err>',
    );
  });

  it('hostile values are escaped: the parsed document gives back the (one-line) text', () => {
    const doc = XmlDocument.fromString(toJunit(hostileResult()));
    try {
      const failure = doc.get('//testcase[@name="[HIGH] CVE-2024-0001"]/failure');
      expect(failure?.content.split('\n')).toEqual([
        // newline → space, ESC → U+FFFD (not an XML character)
        'Package: <script>alert("x")</script>|`pkg`&amp; @team/evil\uFFFD[31mred',
        `Installed version: 1.0|<2> &"'`,
        'Fixed version: 2.0<',
        'Status: fixed',
        'Path: app/<weird> dir/ü|&.json',
        '',
        // NUL and U+FFFF are not XML characters; the CDATA end marker is plain text
        'line 1',
        'line 2 </failure><![CDATA[ ]]> \uFFFD \uFFFD',
      ]);
      const attrs = doc.get('//testcase[@name="[HIGH] CVE-2024-0001"]/failure/@message');
      expect(attrs?.content).toBe(
        '**bold** [link](https://evil.example) <img src=x onerror=alert(1)> | www.evil.example @octocat\uFFFD',
      );
      expect(doc.get(`//testcase[@name='[LOW] ${HOSTILE.weirdId}']`)).not.toBeNull();
    } finally {
      doc.dispose();
    }
  });
});
