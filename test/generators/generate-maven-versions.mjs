/**
 * Maven vectors: versions from the realdata Java build files and advisories plus release
 * histories of well-known artifacts and qualifier variants, pairs ordered by maven-artifact's
 * ComparableVersion (its main(), which compares adjacent arguments), run once with `java`. Run:
 *   node test/generators/generate-maven-versions.mjs [path/to/maven-artifact.jar]
 */
import process from 'node:process';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { grab, pickPairs, realdataFiles, uniq, writeVectors } from './lib.mjs';

const JAR =
  process.argv[2] ??
  [
    join(homedir(), '.m2/repository/org/apache/maven/maven-artifact/3.9.6/maven-artifact-3.9.6.jar'),
    '/usr/share/maven/lib/maven-artifact-3.x.jar',
  ].find((p) => existsSync(p));
if (!JAR) throw new Error('no maven-artifact jar found; pass its path');

const texts = [
  ...realdataFiles('pkgdb/java'),
  ...realdataFiles('feeds/ghsa'),
  ...realdataFiles('feeds/osv'),
].map(([, t]) => t);
const HISTORIES = [
  '2.0-beta9 2.0-rc1 2.0 2.14.1 2.15.0 2.16.0 2.17.0 2.17.1 2.17.2 2.12.2 2.3.1',
  '2.9.10.8 2.10.0.pr1 2.10.5.1 2.12.6.1 2.12.7.1 2.13.0-rc1 2.13.4 2.13.4.2 2.14.0-rc1 2.15.2',
  '4.3.0.RELEASE 5.2.20.RELEASE 5.3.0-M1 5.3.0-RC1 5.3.17 5.3.18 6.0.0-SNAPSHOT 6.0.0 6.1.5',
  '4.1.42.Final 4.1.72.Final 4.1.77.Final 4.1.100.Final 5.0.0.Alpha2',
  '20.0 27.0-android 27.0-jre 30.1-jre 31.1-jre 32.0.0-android 32.0.0-jre 33.0.0-jre',
  '9.4.43.v20210629 9.4.44.v20210927 10.0.0-alpha0 10.0.7 11.0.0.beta1 11.0.15',
  'Hoxton.RELEASE Hoxton.SR1 Hoxton.SR12 2020.0.0-M1 2020.0.0 2021.0.8',
  '1.0-alpha-1 1.0-alpha-2 1.0-beta-1 1.0-SNAPSHOT 1.0 1.0-sp-1 1.0.1 1.1-m1',
];
const candidates = uniq([
  ...grab(texts, /<version>([^<$]+)<\/version>/g),
  ...grab(texts, /version="([^"]+)"/g),
  ...grab(texts, /^[\w.-]+:[\w.-]+:([\w.-]+)=/gm),
  ...grab(texts, /"(?:introduced|fixed|last_affected)": *"([0-9][^"]*)"/g),
  ...HISTORIES.flatMap((h) => h.split(' ')),
]).filter((v) => /^[\w.-]+$/.test(v) && /[0-9]/.test(v));
const SUFFIXES = [
  '-SNAPSHOT',
  '.RELEASE',
  '-rc1',
  '.Final',
  '-sp1',
  '-alpha-1',
  '.0',
  '-1',
  '.M2',
  '-ga',
  'b',
  '.a1',
];
const variants = candidates.flatMap((v, i) => (i % 2 === 0 ? [v + SUFFIXES[i % SUFFIXES.length]] : []));
const versions = uniq([...candidates, ...variants]);
const pairs = pickPairs(versions, 450);

const out = execFileSync(
  'java',
  ['-cp', JAR, 'org.apache.maven.artifact.versioning.ComparableVersion', ...pairs.flat()],
  {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  },
);
// main() prints "   A OP B" for every adjacent argument pair; pair i is comparison 2i
const ops = out
  .split('\n')
  .filter((l) => l.startsWith('   '))
  .map((l) => l.trim().split(' ')[1]);
if (ops.length !== pairs.length * 2 - 1)
  throw new Error(`java printed ${ops.length} comparisons for ${pairs.length} pairs`);
const value = { '<': -1, '==': 0, '>': 1 };
writeVectors(
  'maven',
  [
    `Oracle: org.apache.maven.artifact.versioning.ComparableVersion from ${basename(JAR)} (java).`,
    `Versions: ${versions.length} distinct, from realdata pkgdb/java, feeds/ghsa and feeds/osv, release histories`,
    'of log4j, jackson-databind, spring, netty, guava, jetty and spring-cloud, plus qualifier variants.',
  ],
  pairs.map(([a, b], i) => [a, b, value[ops[2 * i]]]),
);
