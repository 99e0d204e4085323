import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer } from '../../types.js';
import { javaArchiveAnalyzer } from './index.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const td = (rel: string) => readFileSync(join(TESTDATA, rel));
const rd = (name: string) => readFileSync(realdata(`pkgdb/java/${name}`));
const zip = (files: Zippable) => Buffer.from(zipSync(files));
const stored = (data: Uint8Array): [Uint8Array, { level: 0 }] => [data, { level: 0 }];
const analyze = (path: string, buf: Buffer) => javaArchiveAnalyzer.analyze(inputFromBuffer(path, buf));
const mvn = (name: string, version: string, archivePath?: string) => ({
  name,
  version,
  ecosystem: 'maven',
  foundBy: 'lang/java',
  ...(archivePath ? { metadata: { archivePath } } : {}),
});
const unknown = (path: string, message: string) => ({ path, message, source: 'lang/java' });

const commonsText = zip({
  'META-INF/MANIFEST.MF': Buffer.from('Manifest-Version: 1.0\n\n'),
  'META-INF/maven/org.apache.commons/commons-text/pom.properties': td('pom/commons-text.properties'),
  'org/apache/commons/text/StringSubstitutor.class': Buffer.alloc(100, 0xca),
});
const log4j = zip({
  'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties': td('pom/log4j-core.properties'),
});

describe('javaArchiveAnalyzer.required', () => {
  it('wants Java archive extensions only', () => {
    const paths = [
      'app/a.jar',
      'srv/b.WAR',
      'c.ear',
      'd.par',
      'e.sar',
      'jenkins/plugins/f.jpi',
      'g.hpi',
      'h.nar',
      'i.zip',
      'j.jar.sha1',
      'jar',
    ];
    expect(paths.filter((p) => javaArchiveAnalyzer.required(p, { size: 1000, mode: 0o644 }))).toEqual(
      paths.slice(0, 8),
    );
  });
});

describe('javaArchiveAnalyzer on archives built from testdata', () => {
  it('reads pom.properties', async () => {
    expect(await analyze('usr/share/java/commons-text-1.10.0.jar', commonsText)).toEqual({
      packages: [mvn('org.apache.commons:commons-text', '1.10.0')],
    });
  });

  it('reports every embedded artifact of a shaded jar, skipping an incomplete pom.properties', async () => {
    const shaded = zip({
      'META-INF/maven/com.example/app/pom.properties': td('pom/app.properties'),
      'META-INF/maven/com.google.guava/guava/pom.properties': td('pom/guava.properties'),
      'META-INF/maven/com.google.code.gson/gson/pom.properties': td('pom/gson-colon-crlf.properties'),
      'META-INF/maven/x/incomplete/pom.properties': td('pom/incomplete.properties'),
      'META-INF/MANIFEST.MF': td('manifest/spring-boot-demo.MF'),
    });
    expect(await analyze('opt/app-1.0.0.jar', shaded)).toEqual({
      packages: [
        mvn('com.example:app', '1.0.0'),
        mvn('com.google.guava:guava', '31.1-jre'),
        mvn('com.google.code.gson:gson', '2.10.1'),
      ],
    });
  });

  it('derives groupId from Bundle-SymbolicName and unfolds CRLF continuation lines', async () => {
    const jetty = zip({ 'META-INF/MANIFEST.MF': td('manifest/jetty-util-osgi.MF') });
    expect(await analyze('lib/jetty-util.jar', jetty)).toEqual({
      packages: [mvn('org.eclipse.jetty:jetty-util', '9.4.43.v20210629')],
    });
  });

  it('falls back to the file name (artifactId only) and reports nothing without any metadata', async () => {
    const bare = zip({ 'com/acme/Foo.class': Buffer.alloc(10) });
    expect([await analyze('lib/foo-bar-2.3.4.jar', bare), await analyze('lib/foo-bar.jar', bare)]).toEqual([
      { packages: [mvn('foo-bar', '2.3.4')] },
      {},
    ]);
  });

  it('walks a war: own pom, deflated and stored nested jars, a nested jar without metadata, a broken one', async () => {
    const jetty = zip({ 'META-INF/MANIFEST.MF': td('manifest/jetty-util-osgi.MF') });
    const war = zip({
      'META-INF/maven/com.example/shop/pom.properties': td('pom/shop.properties'),
      'WEB-INF/web.xml': Buffer.from('<web-app/>'),
      'WEB-INF/lib/commons-text-1.10.0.jar': commonsText,
      'WEB-INF/lib/jetty-util-9.4.43.v20210629.jar': stored(jetty),
      'WEB-INF/lib/mystery.jar': zip({ 'a.class': Buffer.alloc(4) }),
      'WEB-INF/lib/broken.jar': Buffer.from('this is not a zip'),
    });
    expect(await analyze('srv/shop.war', war)).toEqual({
      packages: [
        mvn('com.example:shop', '2.0.0'),
        mvn('org.apache.commons:commons-text', '1.10.0', 'srv/shop.war!/WEB-INF/lib/commons-text-1.10.0.jar'),
        mvn(
          'org.eclipse.jetty:jetty-util',
          '9.4.43.v20210629',
          'srv/shop.war!/WEB-INF/lib/jetty-util-9.4.43.v20210629.jar',
        ),
      ],
      unknowns: [
        unknown(
          'srv/shop.war',
          'srv/shop.war!/WEB-INF/lib/broken.jar: no end of central directory record (not a zip file)',
        ),
      ],
    });
  });

  it('walks an ear → war → jar chain and stops at the nesting limit', async () => {
    const war = zip({ 'WEB-INF/lib/log4j-core-2.14.1.jar': log4j });
    const ear = zip({ 'web.war': war, 'lib/commons-text-1.10.0.jar': stored(commonsText) });
    expect(await analyze('app.ear', ear)).toEqual({
      packages: [
        mvn(
          'org.apache.logging.log4j:log4j-core',
          '2.14.1',
          'app.ear!/web.war!/WEB-INF/lib/log4j-core-2.14.1.jar',
        ),
        mvn('org.apache.commons:commons-text', '1.10.0', 'app.ear!/lib/commons-text-1.10.0.jar'),
      ],
    });
    // levels 0..3 are read (MAX_NESTING = 4): the jar at level 4 is not opened
    let deep = log4j;
    for (let i = 4; i >= 1; i--)
      deep = zip({
        [`l${i}.jar`]: deep,
        [`META-INF/maven/g/l${i - 1}/pom.properties`]: Buffer.from(
          `groupId=g\nartifactId=l${i - 1}\nversion=${i - 1}`,
        ),
      });
    const found = await analyze('l0.jar', deep);
    expect(found.packages?.map((p) => p.name)).toEqual(['g:l0', 'g:l1', 'g:l2', 'g:l3']);
  });

  it('stops after 10,000 nested archives on a crafted fan-out of overlapping entries', async () => {
    // every level lists the same stored child 100 times: 100^3 archives without the cap
    let bomb = zip({ 'a.class': Buffer.alloc(4) });
    for (let i = 0; i < 4; i++) bomb = fanOut(bomb, 100);
    // level1 #0 opens 1 + 100 × 101 archives: the cap (10,000) is hit at its 100th child,
    // then at the outer archive's second child
    expect(await analyze('q.jar', bomb)).toEqual({
      unknowns: [
        unknown('q.jar', 'q.jar!/x0.jar: more than 10000 nested archives, the rest is not read'),
        unknown('q.jar', 'q.jar: more than 10000 nested archives, the rest is not read'),
      ],
    });
  });

  it('reads a Spring Boot jar with a prepended launch script and stored BOOT-INF/lib jars', async () => {
    const boot = zip({
      'META-INF/MANIFEST.MF': td('manifest/spring-boot-demo.MF'),
      'BOOT-INF/classes/com/example/demo/DemoApplication.class': Buffer.alloc(20),
      'BOOT-INF/lib/log4j-core-2.14.1.jar': stored(log4j),
    });
    const executable = Buffer.concat([
      Buffer.from('#!/bin/bash\n# launch script\nexec java -jar "$0" "$@"\n'),
      boot,
    ]);
    expect(await analyze('app/demo-0.0.1-SNAPSHOT.jar', executable)).toEqual({
      packages: [
        // manifest has no groupId: the file name gives artifactId and version
        mvn('demo', '0.0.1-SNAPSHOT'),
        mvn(
          'org.apache.logging.log4j:log4j-core',
          '2.14.1',
          'app/demo-0.0.1-SNAPSHOT.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar',
        ),
      ],
    });
  });

  it('reads a zip64 end of central directory', async () => {
    expect(await analyze('x/commons-text-1.10.0.jar', toZip64(commonsText))).toEqual({
      packages: [mvn('org.apache.commons:commons-text', '1.10.0')],
    });
  });

  it('turns a corrupt zip into an unknown and a damaged entry into an unknown beside the rest', async () => {
    const damaged = Buffer.from(commonsText);
    // corrupt the deflate stream of the first entry (MANIFEST.MF), leaving pom.properties intact
    damaged.fill(0xff, 30 + 'META-INF/MANIFEST.MF'.length, 30 + 'META-INF/MANIFEST.MF'.length + 4);
    expect([
      await analyze('bad.jar', Buffer.from('PK\x03\x04 truncated')),
      await analyze('commons-text-1.10.0.jar', damaged),
    ]).toEqual([
      {
        unknowns: [
          unknown(
            'bad.jar',
            'not a readable Java archive: no end of central directory record (not a zip file)',
          ),
        ],
      },
      {
        packages: [mvn('org.apache.commons:commons-text', '1.10.0')],
        unknowns: [
          unknown(
            'commons-text-1.10.0.jar',
            'commons-text-1.10.0.jar: META-INF/MANIFEST.MF: corrupt deflate data',
          ),
        ],
      },
    ]);
  });
});

describe.skipIf(!hasRealdata)('javaArchiveAnalyzer on real manifests and pom.properties (realdata)', () => {
  it('jackson-core MANIFEST.MF: Implementation-Vendor-Id + Implementation-Title, cased by the file name', async () => {
    const jar = zip({ 'META-INF/MANIFEST.MF': rd('syft-jackson-core-2.15.2-MANIFEST.MF') });
    expect([await analyze('jackson-core-2.15.2.jar', jar), await analyze('renamed.jar', jar)]).toEqual([
      { packages: [mvn('com.fasterxml.jackson.core:jackson-core', '2.15.2')] },
      { packages: [mvn('com.fasterxml.jackson.core:Jackson-core', '2.15.2')] },
    ]);
  });

  it('opensaml: pom.properties wins; its manifest keeps Implementation-* outside the main section', async () => {
    const withPom = zip({
      'META-INF/MANIFEST.MF': rd('syft-opensaml-core-3.4.6-MANIFEST.MF'),
      'META-INF/maven/org.opensaml/opensaml-core/pom.properties': rd(
        'syft-opensaml-core-3.4.6-pom.properties',
      ),
    });
    const manifestOnly = zip({ 'META-INF/MANIFEST.MF': rd('syft-opensaml-core-3.4.6-MANIFEST.MF') });
    expect([
      await analyze('opensaml-core-3.4.6.jar', withPom),
      await analyze('opensaml-core-3.4.6.jar', manifestOnly),
    ]).toEqual([
      { packages: [mvn('org.opensaml:opensaml-core', '3.4.6')] },
      { packages: [mvn('opensaml-core', '3.4.6')] },
    ]);
  });

  it('Jenkins plugin manifest: Group-Id, Short-Name, Plugin-Version', async () => {
    const hpi = zip({ 'META-INF/MANIFEST.MF': rd('syft-jenkins-gradle-plugin-MANIFEST.MF') });
    expect(await analyze('var/jenkins_home/plugins/gradle.jpi', hpi)).toEqual({
      packages: [mvn('org.jenkins-ci.plugins:gradle', '2.11')],
    });
  });

  it('New Relic instrumentation manifest: vendor with spaces is no groupId, so nothing without a versioned file name', async () => {
    const jar = zip({ 'META-INF/MANIFEST.MF': rd('syft-spring-instrumentation-MANIFEST.MF') });
    expect(await analyze('newrelic/spring-instrumentation.jar', jar)).toEqual({});
  });
});

describe('fuzzing', () => {
  it('never rejects on 12,000 mutated archives', async () => {
    const war = zip({
      'META-INF/MANIFEST.MF': td('manifest/jetty-util-osgi.MF'),
      'META-INF/maven/com.example/shop/pom.properties': td('pom/shop.properties'),
      'WEB-INF/lib/commons-text-1.10.0.jar': commonsText,
      'WEB-INF/lib/log4j-core-2.14.1.jar': stored(log4j),
    });
    const seeds = [
      war,
      commonsText,
      toZip64(log4j),
      zip({ 'META-INF/MANIFEST.MF': stored(td('manifest/spring-boot-demo.MF')) }),
    ];
    const failures = await fuzz(seeds, 12_000, (input) => analyze('fuzz-1.0.jar', input));
    expect(failures).toEqual([]);
  });
});

/** A zip whose central directory lists `n` entries x0.jar… that all point at one stored copy of `inner`. */
function fanOut(inner: Buffer, n: number): Buffer {
  const one = zip({ 'x.jar': stored(inner) });
  const eocd = one.lastIndexOf(Buffer.from([0x50, 0x4b, 5, 6]));
  const cdOff = one.readUInt32LE(eocd + 16);
  const rec = one.subarray(cdOff, eocd);
  const fixed = rec.subarray(0, 46);
  const rest = rec.subarray(46 + rec.readUInt16LE(28));
  const cd = Buffer.concat(
    Array.from({ length: n }, (_, i) => {
      const name = Buffer.from(`x${i}.jar`);
      const head = Buffer.from(fixed);
      head.writeUInt16LE(name.length, 28);
      return Buffer.concat([head, name, rest]);
    }),
  );
  const end = Buffer.from(one.subarray(eocd, eocd + 22));
  end.writeUInt16LE(n, 8);
  end.writeUInt16LE(n, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([one.subarray(0, cdOff), cd, end]);
}

/** Rewrites a zip's end record into zip64 form (zip64 record + locator + 0xffff-filled record). */
function toZip64(z: Buffer): Buffer {
  const eocd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 5, 6]));
  const n = z.readUInt16LE(eocd + 10);
  const rec = Buffer.alloc(56);
  rec.writeUInt32LE(0x06064b50, 0);
  rec.writeBigUInt64LE(44n, 4);
  rec.writeUInt16LE(45, 12);
  rec.writeUInt16LE(45, 14);
  rec.writeBigUInt64LE(BigInt(n), 24);
  rec.writeBigUInt64LE(BigInt(n), 32);
  rec.writeBigUInt64LE(BigInt(z.readUInt32LE(eocd + 12)), 40);
  rec.writeBigUInt64LE(BigInt(z.readUInt32LE(eocd + 16)), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(eocd), 8);
  loc.writeUInt32LE(1, 16);
  const end = Buffer.from(z.subarray(eocd));
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([z.subarray(0, eocd), rec, loc, end]);
}
