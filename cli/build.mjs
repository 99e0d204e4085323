// Bundles the built CLI (cli/dist/main.js) into one CommonJS file, cli/dist/bundle/vigil.cjs, with
// esbuild, then writes its V8 code cache (cli/dist/bundle/vigil.cjs.v8cache) by running
// `vigil --version` once through cli/dist/launch.cjs. bin/vigil.js runs the bundle through that
// cache: one file to load instead of hundreds of modules, and no parse or compile of it, cuts
// `vigil` start-up from ~0.4 s to well under 0.1 s over Node's own, which matters for warm
// rescans (bench B2) and CI steps. Parts loaded on demand (database side) are in the same file
// but wrapped by esbuild so they are evaluated only when imported; large dependencies used on
// demand (registry client, CVSS, YAML) are side bundles beside it (SIDE_BUNDLES). Native
// addons and optional plug-ins stay external.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { trainCodeCache } from './code-cache-training.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Start-up work of dependencies that a run does not need, deferred to first use in the bundled
 * copy (the packages themselves are untouched). Each patch replaces one exact piece of source and
 * fails the build when it is not there, so an upgrade of the package must look at it again.
 */
const LOAD_TIME_PATCHES = [
  {
    // packageurl-js builds an ICU collator at load (`new Intl.Collator()`, 10–30 ms: the first
    // collator loads ICU's collation data) only to sort its eight component names, which it first
    // maps to the digits 0–7. The collator becomes lazy, and two single ASCII digits are compared
    // directly (the root collation orders digits by value, as code units do); every other
    // comparison still goes through the same collator.
    file: /[\\/]packageurl-js[\\/]src[\\/]strings\.js$/,
    eager: 'const { compare: localeCompare } = new Intl.Collator()',
    lazy:
      'let collator; const localeCompare = (a, b) => { const x = String(a), y = String(b);' +
      ' return /^[0-9]$/.test(x) && /^[0-9]$/.test(y) ? (x < y ? -1 : x > y ? 1 : 0)' +
      ' : (collator ??= new Intl.Collator()).compare(x, y) }',
  },
  {
    // commander loads child_process (with net, dgram, …: ≈5 ms) at load, only to spawn the
    // executables of stand-alone sub-commands, which vigil has none of; its only use is `.spawn`
    file: /[\\/]commander[\\/]lib[\\/]command\.js$/,
    eager: "const childProcess = require('node:child_process');",
    lazy: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  },
];

const deferLoadTimeWork = {
  name: 'defer-load-time-work',
  setup(b) {
    for (const { file, eager, lazy } of LOAD_TIME_PATCHES) {
      b.onLoad({ filter: file }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        if (!source.includes(eager))
          throw new Error(`${path}: \`${eager}\` not found; revisit cli/build.mjs`);
        return { contents: source.replace(eager, lazy), loader: 'js' };
      });
    }
  },
};

/**
 * Large dependencies that no start-up or warm rescan evaluates (the registry client, CVSS
 * arithmetic, YAML), each bundled into a file of its own beside vigil.cjs and required from there
 * when first used. Every run reads, decodes and checks the main bundle and deserialises its code
 * cache; these three were 60 % of its bytes (undici alone 520 KB), about 20 ms of CPU of every
 * `vigil` run, bench B2. The side files have no code cache: a run that uses one compiles it lazily.
 */
const SIDE_BUNDLES = ['undici', 'ae-cvss-calculator', 'yaml'];
const sideBundleFile = (name) => `${name}.cjs`;

const sideBundlesExternal = {
  name: 'side-bundles-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, ({ path }) =>
      SIDE_BUNDLES.includes(path) ? { path: `./${sideBundleFile(path)}`, external: true } : undefined,
    );
  },
};

const common = {
  bundle: true,
  // CommonJS, not ESM: Node 20 can use a code cache only for a script (see cli/src/launch.cts)
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  // licence comments to *.LEGAL.txt: they hold the bundles' only non-ASCII characters, and an
  // all-ASCII bundle decodes fast into a one-byte string (half the memory) at every start
  legalComments: 'linked',
  logLevel: 'warning',
};

await rm(`${here}dist/bundle`, { recursive: true, force: true });
for (const name of SIDE_BUNDLES) {
  await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: here, loader: 'js' },
    outfile: `${here}dist/bundle/${sideBundleFile(name)}`,
  });
}
await build({
  ...common,
  entryPoints: [`${here}dist/main.js`],
  outfile: `${here}dist/bundle/vigil.cjs`,
  plugins: [deferLoadTimeWork, sideBundlesExternal],
  external: [
    'better-sqlite3',
    'zstd-napi',
    // reads its own resource files through __dirname; loaded on demand anyway
    '@cyclonedx/cyclonedx-library',
    // optional plug-ins of @cyclonedx/cyclonedx-library, loaded in try/catch when present
    'libxmljs2',
    'xmlbuilder2',
    'ajv',
    'ajv-formats',
    'ajv-formats-draft2019',
    'spdx-expression-parse',
  ],
  // the sources are ES modules: strict mode as before, and import.meta.url (createRequire) is the bundle's
  define: { 'import.meta.url': '__vigilBundleUrl' },
  banner: {
    js: '"use strict";const __vigilBundleUrl=require("node:url").pathToFileURL(__filename).href;',
  },
});

// the code cache of the bundle, trained on what users run (code-cache-training.mjs)
await trainCodeCache(`${here}dist/launch.cjs`, `${here}bin/vigil.js`);
