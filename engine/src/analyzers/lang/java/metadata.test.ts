import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { fileNameCoordinates, manifestCoordinates, parseManifest, pomCoordinates } from './metadata.js';

const rd = (name: string) => readFileSync(realdata(`pkgdb/java/${name}`), 'utf8');

describe.skipIf(!hasRealdata)('parseManifest on real manifests', () => {
  it('joins 72-byte continuation lines', () => {
    expect(Object.fromEntries(parseManifest(rd('syft-manifest-continuation.MF')))).toEqual({
      'manifest-version': '1.0',
      'plugin-scmurl': 'https://github.com/jenkinsci/plugin-pom/example-jenkins-plugin',
    });
    const spring = parseManifest(rd('syft-spring-instrumentation-MANIFEST.MF'));
    expect([
      spring.get('weave-violation-filter'),
      spring.get('implementation-title'),
      spring.get('illegal-classes'),
    ]).toEqual([
      'METHOD_MISSING_REQUIRED_ANNOTATIONS,CLASS_MISSING_REQUIRED_ANNOTATIONS',
      'com.newrelic.instrumentation.spring-4.3.0',
      '',
    ]);
  });

  it('stops at the end of the main section (CRLF file)', () => {
    const opensaml = parseManifest(rd('syft-opensaml-core-3.4.6-MANIFEST.MF'));
    expect([
      opensaml.get('main-class'),
      opensaml.has('implementation-version'),
      opensaml.has('name'),
    ]).toEqual(['org.opensaml.core.Version', false, false]);
  });

  it('derives coordinates as documented', () => {
    expect([
      manifestCoordinates(parseManifest(rd('syft-jackson-core-2.15.2-MANIFEST.MF'))),
      manifestCoordinates(parseManifest(rd('syft-jenkins-gradle-plugin-MANIFEST.MF'))),
      manifestCoordinates(parseManifest(rd('syft-spring-instrumentation-MANIFEST.MF'))),
      manifestCoordinates(parseManifest(rd('syft-opensaml-core-3.4.6-MANIFEST.MF'))),
      pomCoordinates(rd('syft-opensaml-core-3.4.6-pom.properties')),
    ]).toEqual([
      { groupId: 'com.fasterxml.jackson.core', artifactId: 'Jackson-core', version: '2.15.2' },
      { groupId: 'org.jenkins-ci.plugins', artifactId: 'gradle', version: '2.11' },
      // Implementation-Vendor "New Relic" has a space: no groupId
      { artifactId: 'com.newrelic.instrumentation.spring-4.3.0', version: '1.0' },
      undefined,
      { groupId: 'org.opensaml', artifactId: 'opensaml-core', version: '3.4.6' },
    ]);
  });
});

describe('manifestCoordinates', () => {
  it('skips %placeholders and undotted vendors', () => {
    const m = parseManifest(
      'Bundle-Name: %bundleName\nSpecification-Title: widgets\nSpecification-Vendor: Acme\nBundle-Version: 1.2\n',
    );
    expect(manifestCoordinates(m)).toEqual({ artifactId: 'widgets', version: '1.2' });
  });
});

describe('fileNameCoordinates', () => {
  it.each([
    ['spring-core-5.3.4-SNAPSHOT.jar', { artifactId: 'spring-core', version: '5.3.4-SNAPSHOT' }],
    ['log4j-1.2-api-2.17.1.jar', { artifactId: 'log4j-1.2-api', version: '2.17.1' }],
    ['guava-31.1-jre.jar', { artifactId: 'guava', version: '31.1-jre' }],
    ['netty-all-4.1.68.Final.JAR', { artifactId: 'netty-all', version: '4.1.68.Final' }],
    ['gradle-2.11.hpi', { artifactId: 'gradle', version: '2.11' }],
    ['app.jar', undefined],
    ['app-latest.jar', undefined],
    ['notes-1.0.txt', undefined],
  ])('%s', (name, expected) => {
    expect(fileNameCoordinates(name)).toEqual(expected);
  });
});
