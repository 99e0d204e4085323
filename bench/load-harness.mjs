/**
 * Loads TypeScript harness modules from test/harness/ in plain Node 20 (no type stripping):
 * each requested file and its relative imports are transpiled with the TypeScript compiler API
 * (`transpileModule`, no type check) into bench/.work/harness/ and imported from there.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const harnessDir = resolve(here, '..', 'test', 'harness');
const outDir = join(here, '.work', 'harness');

function emit(name, seen) {
  if (seen.has(name)) return;
  seen.add(name);
  const source = readFileSync(join(harnessDir, `${name}.ts`), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
    },
    fileName: `${name}.ts`,
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.js`), outputText);
  for (const m of source.matchAll(/from '\.\/([\w-]+)\.js'/g)) emit(m[1], seen);
}

/** Imports test/harness/<name>.ts (transpiled); returns the module namespace. */
export async function loadHarness(name) {
  emit(name, new Set());
  return import(pathToFileURL(join(outDir, `${name}.js`)).href);
}
