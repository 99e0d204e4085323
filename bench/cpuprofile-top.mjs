/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, per file and
 * per area (npm package, engine folder, Node module loading, zlib, GC, idle), and inclusive time
 * of functions matching a filter, so a bench regression can be pinned to code.
 *
 * Usage: `node bench/cpuprofile-top.mjs FILE.cpuprofile [--top N] [--match REGEX]`
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [file, ...rest] = process.argv.slice(2);
process.stdout.on('error', () => process.exit(0)); // output piped into head
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [--top N] [--match REGEX]\n');
  process.exit(2);
}
const opt = (name, dflt) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : dflt);
const top = Number(opt('--top', 25));
const match = new RegExp(opt('--match', '.'));

const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// sample → node id; time deltas in µs
const selfUs = new Map();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const short = (url) =>
  url.replace(/^file:\/\/.*?\/(node_modules|engine|cli)\//, '$1/').replace(/^node:/, 'node:');
const label = (n) =>
  `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

/** Area of a file: `tar-stream`, `engine/image/walk`, `node: module loading`, … */
const area = (f) => {
  let m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
  if (m) return m[1];
  m = /^(engine|cli)\/dist\/(?:([^/]+)\/(?:([^/]+)\/)?)?/.exec(f);
  if (m) return [m[1], m[2], m[3]].filter(Boolean).join('/');
  if (
    /^node:internal\/(modules|bootstrap)/.test(f) ||
    /^\((wrapSafe|compile|internalModuleStat|readFileUtf8)/.test(f)
  )
    return 'node: module loading';
  if (/^node:/.test(f)) return f.replace(/^node:(internal\/)?/, 'node:').replace(/^(node:[^/]+).*$/, '$1');
  return f;
};
const areaSelf = new Map();
const fnSelf = new Map();
const fileSelf = new Map();
const fnIncl = new Map();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  fnSelf.set(label(n), (fnSelf.get(label(n)) ?? 0) + us);
  const f = short(n.callFrame.url) || `(${n.callFrame.functionName})`;
  fileSelf.set(f, (fileSelf.get(f) ?? 0) + us);
  const a = n.callFrame.url ? area(f) : n.callFrame.functionName === 'wrapSafe' ? 'node: module loading' : f;
  areaSelf.set(a, (areaSelf.get(a) ?? 0) + us);
  // inclusive: count once per distinct label on the stack
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur));
    if (!seen.has(l)) {
      seen.add(l);
      fnIncl.set(l, (fnIncl.get(l) ?? 0) + us);
    }
  }
}

const print = (title, map, filter = () => true) => {
  process.stdout.write(`\n## ${title} (total ${(total / 1e3).toFixed(0)} ms)\n`);
  for (const [k, us] of [...map]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    process.stdout.write(
      `${(us / 1e3).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}\n`,
    );
  }
};
print('self time by function', fnSelf);
print('self time by file', fileSelf);
print('self time by area', areaSelf);
print(`inclusive time, functions matching ${match}`, fnIncl, (k) => match.test(k));
