import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { Package } from '../../../model/package.js';
import { type AnalysisResult, inputFromBuffer } from '../../types.js';
import { npmLockAnalyzer } from './index.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));

/** An expected lock-file package. */
function p(name: string, version: string, dev = false): Package {
  return {
    name,
    version,
    ecosystem: 'npm',
    foundBy: 'lang/npm-lock',
    declared: true,
    ...(dev ? { dev: true } : {}),
  };
}

/** Runs the lock analyzer on `file` presented under the image path `as` (the base name picks the parser). */
async function analyze(file: string, as: string): Promise<AnalysisResult> {
  return npmLockAnalyzer.analyze(inputFromBuffer(as, await readFile(file)));
}

const real = (name: string) => realdata(`pkgdb/npm/${name}`);

describe.skipIf(!hasRealdata)('npmLockAnalyzer on realdata', () => {
  it.each<[string, string, Package[]]>([
    [
      // lockfileVersion 1: the nested dependencies tree; "node_modules/async" key read as "async"
      'syft-package-lock-v1.json',
      'package-lock.json',
      [
        p('@actions/core', '1.6.0'),
        p('ansi-regex', '3.0.0'),
        p('async', '3.2.4', true),
        p('cowsay', '1.4.0'),
        p('get-stdin', '5.0.1'),
        p('is-fullwidth-code-point', '2.0.0'),
        p('minimist', '0.0.10'),
        p('optimist', '0.6.1'),
        p('string-width', '2.1.1'),
        p('strip-ansi', '4.0.0'),
        p('strip-eof', '1.0.0'),
        p('wordwrap', '0.0.3'),
      ],
    ],
    [
      // v2: the packages map wins over the legacy tree; root "" skipped
      'syft-package-lock-v2.json',
      'package-lock.json',
      [
        p('@types/prop-types', '15.7.5'),
        p('@types/react', '18.0.17'),
        p('@types/scheduler', '0.16.2'),
        p('async', '3.2.4', true),
        p('csstype', '3.1.0'),
      ],
    ],
    [
      'syft-package-lock-v3.json',
      'package-lock.json',
      [
        p('@types/prop-types', '15.7.5'),
        p('@types/react', '18.0.20'),
        p('@types/scheduler', '0.16.2'),
        p('async', '3.2.4', true),
        p('csstype', '3.1.1'),
      ],
    ],
    [
      // aliases: node_modules/case-alias has "name": "case", node_modules/chai is @bundled-es-modules/chai
      'syft-package-lock-alias-v2.json',
      'npm-shrinkwrap.json',
      [p('@bundled-es-modules/chai', '4.2.2'), p('case', '1.6.2'), p('case', '1.6.3')],
    ],
    [
      // git dependencies carry their package.json version; raven-js has none and is left out;
      // postcss-calc/node_modules/is-number-1@3.0.0 and -2@2.0.0 repeat top-level ones, -3@3.0.0 is new
      'scalibr-package-lock-commits.v2.json',
      'package-lock.json',
      [
        p('@segment/analytics.js-integration-facebook-pixel', '2.4.1'),
        p('ansi-styles', '1.0.0'),
        p('babel-preset-php', '1.1.1', true),
        p('is-number-1', '3.0.0', true),
        p('is-number-2', '2.0.0', true),
        p('is-number-3', '2.0.0', true),
        p('is-number-3', '3.0.0', true),
        p('is-number-4', '3.0.0', true),
        p('is-number-5', '3.0.0', true),
        p('postcss-calc', '7.0.1'),
        p('slick-carousel', '1.7.1', true),
      ],
    ],
    [
      // 36 nested copies of supports-color at two versions
      'scalibr-package-lock-nested-dup.v2.json',
      'package-lock.json',
      [p('supports-color', '2.0.0'), p('supports-color', '6.1.0')],
    ],
    [
      // yarn classic; should-type resolved from git keeps its version; the `name` field is ignored
      'syft-yarn-v1.lock',
      'yarn.lock',
      [
        p('async', '0.9.2'),
        p('async', '3.2.3'),
        p('merge-objects', '1.0.5'),
        p('resize-observer-polyfill', '1.5.2'),
        p('should-type', '1.3.0'),
      ],
    ],
    [
      // yarn berry; @types/qs is listed twice; the workspace root (c0n-fab_u.laTION@workspace:.) is skipped
      'syft-yarn-berry.lock',
      'yarn.lock',
      [
        p('@babel/code-frame', '7.10.4'),
        p('@types/minimatch', '3.0.3'),
        p('@types/qs', '6.9.4'),
        p('ajv', '6.12.3'),
        p('asn1.js', '4.10.1'),
        p('atob', '2.1.2'),
        p('aws-sdk', '2.706.0'),
        p('jhipster-core', '7.3.4'),
      ],
    ],
    [
      // berry aliases resolve to the real package names
      'scalibr-yarn-with-aliases.v2.lock',
      'yarn.lock',
      [
        p('@babel/helper-validator-identifier', '7.22.20'),
        p('ansi-regex', '5.0.1'),
        p('ansi-regex', '6.0.1'),
      ],
    ],
    [
      // v5.4: only the packages section names packages (the fixture keeps one)
      'syft-pnpm-lock-v5.yaml',
      'pnpm-lock.yaml',
      [p('@bcoe/v8-coverage', '0.2.3', true)],
    ],
    [
      'syft-pnpm-lock-v6.yaml',
      'pnpm-lock.yaml',
      [
        p('@babel/core', '7.21.4'),
        p('@testing-library/jest-dom', '5.16.5'),
        p('@testing-library/react', '13.4.0'),
        p('@testing-library/user-event', '13.5.0'),
        p('@types/eslint', '8.37.0'),
        p('react', '18.2.0'),
        p('react-dom', '18.2.0'),
        p('read-cache', '1.0.0'),
        p('schema-utils', '3.1.2'),
        p('web-vitals', '2.1.4'),
      ],
    ],
    [
      'syft-pnpm-lock-v9.yaml',
      'pnpm-lock.yaml',
      [
        p('cross-spawn', '7.0.6'),
        p('isexe', '2.0.0'),
        p('path-key', '3.1.1'),
        p('shebang-command', '2.0.0'),
        p('shebang-regex', '3.0.0'),
        p('which', '2.0.2'),
      ],
    ],
    [
      // nested peer suffixes are stripped; all importers' deps are prod
      'scalibr-pnpm-peer-deps-advanced.v9.yaml',
      'pnpm-lock.yaml',
      [
        p('@eslint-community/eslint-utils', '4.4.0'),
        p('@eslint/eslintrc', '2.1.4'),
        p('@typescript-eslint/eslint-plugin', '5.62.0'),
        p('@typescript-eslint/parser', '5.62.0'),
        p('@typescript-eslint/type-utils', '5.62.0'),
        p('@typescript-eslint/typescript-estree', '5.62.0'),
        p('@typescript-eslint/utils', '5.62.0'),
        p('debug', '4.3.4'),
        p('eslint', '8.57.0'),
        p('has-flag', '4.0.0'),
        p('supports-color', '7.2.0'),
        p('tsutils', '3.21.0'),
        p('typescript', '4.9.5'),
      ],
    ],
    ['osvscanner-bun.lock', 'bun.lock', [p('has-flag', '4.0.0'), p('wrappy', '1.0.2')]],
  ])('%s', async (file, as, want) => {
    expect(await analyze(real(file), `project/${as}`)).toEqual({ packages: want });
  });
});

describe('npmLockAnalyzer edge cases', () => {
  it.each<[string, Package[]]>([
    [
      // workspace folders and links skipped; dev only when every copy is dev; devOptional is not dev;
      // "name" overrides the folder (alias); no version / non-object entries skipped
      'lock-v3-workspaces/package-lock.json',
      [
        p('debug', '4.3.4'),
        p('fsevents', '2.3.3'),
        p('left-pad', '1.3.0', true),
        p('ms', '2.1.2', true),
        p('ms', '2.1.3'),
        p('strip-ansi', '6.0.1'),
      ],
    ],
    [
      // v1 alias, nested trees, file: and git versions left out
      'lock-v1-edge/npm-shrinkwrap.json',
      [
        p('@types/node', '18.11.9', true),
        p('debug', '2.6.9'),
        p('express', '4.17.1'),
        p('ms', '2.0.0'),
        p('ms', '2.1.3', true),
        p('string-width', '4.2.3'),
      ],
    ],
    [
      // CRLF, multi-pattern headers, alias, file:/link: skipped, no version skipped,
      // deeper `version` lines are not the entry's, unquoted values
      'yarn-v1-edge/yarn.lock',
      [
        p('@babel/code-frame', '7.12.13'),
        p('abbrev', '1.1.1'),
        p('string-width', '4.2.3'),
        p('wrapped', '2.0.1'),
      ],
    ],
    [
      // patch: skipped (plain npm: copy kept), git keeps its version, link/portal/workspace skipped,
      // version missing → taken from the npm: resolution
      'yarn-berry-edge/yarn.lock',
      [p('is-number', '7.0.0'), p('left-pad', '1.10.0'), p('no-version', '2.0.0'), p('resolve', '1.22.1')],
    ],
    [
      // dev-only computed through importers → snapshots; alias to strip-ansi; tarball version field
      'pnpm-v9-dev/pnpm-lock.yaml',
      [
        p('@types/node', '20.0.0', true),
        p('debug', '4.3.4'),
        p('express', '4.18.2'),
        p('ms', '2.1.2'),
        p('ms', '2.1.3'),
        p('strip-ansi', '6.0.1', true),
        p('tarball-dep', '3.0.0', true),
        p('vitest', '1.0.0', true),
      ],
    ],
    [
      // v5 peer suffix `_@babel+core@7.21.4`, git package with name/version, other registry host
      'pnpm-v5-edge/pnpm-lock.yaml',
      [
        p('@babel/core', '7.21.4'),
        p('both-sides', '1.0.0'),
        p('eslint-plugin-x', '1.2.0', true),
        p('from-git', '2.0.0'),
        p('other-registry', '1.0.0'),
      ],
    ],
    [
      // the same package with two peer sets, one prod and one dev → prod; file: skipped
      'pnpm-v6-edge/pnpm-lock.yaml',
      [p('@scope/pkg', '1.0.0'), p('react', '18.2.0', true)],
    ],
    [
      // comments, trailing commas, workspace and github entries skipped, alias key → real name
      'bun-edge/bun.lock',
      [p('@types/node', '20.11.5'), p('ansi-regex', '5.0.1'), p('strip-ansi', '6.0.1')],
    ],
  ])('%s', async (fixture, want) => {
    expect(await analyze(`${TESTDATA}${fixture}`, fixture)).toEqual({ packages: want });
  });

  it.each([
    ['package-lock.json', '{"lockfileVersion": 2,', /^cannot parse package-lock\.json: /],
    [
      'package-lock.json',
      '"just a string"',
      /^cannot parse package-lock\.json: package-lock is not a JSON object$/,
    ],
    ['yarn.lock', '__metadata:\n  version: 6\n"a@npm:1":\n  - [', /^cannot parse yarn\.lock: /],
    ['pnpm-lock.yaml', 'lockfileVersion: [unclosed', /^cannot parse pnpm-lock\.yaml: /],
    ['pnpm-lock.yaml', '- a list\n', /^cannot parse pnpm-lock\.yaml: pnpm-lock\.yaml is not a YAML mapping$/],
    ['bun.lock', '{ "packages": { "a": ["a@1.0.0"] ', /^cannot parse bun\.lock: /],
  ])('%s with %j becomes an unknown', async (name, text, message) => {
    const result = await npmLockAnalyzer.analyze(inputFromBuffer(`p/${name}`, Buffer.from(text)));
    expect(result).toEqual({
      unknowns: [{ path: `p/${name}`, message: expect.stringMatching(message), source: 'lang/npm-lock' }],
    });
  });

  it.each([
    ['package-lock.json', '{}'],
    ['package-lock.json', '{"packages": []}'],
    ['yarn.lock', ''],
    ['yarn.lock', '# yarn lockfile v1\n'],
    ['pnpm-lock.yaml', "lockfileVersion: '9.0'\n"],
    ['bun.lock', '{"lockfileVersion": 0}'],
  ])('%s with %j has no packages', async (name, text) => {
    expect(await npmLockAnalyzer.analyze(inputFromBuffer(`p/${name}`, Buffer.from(text)))).toEqual({
      packages: [],
    });
  });
});
