/**
 * PEP 440 vectors: versions from the realdata Python lock files and PyPI advisories plus their
 * pre/post/dev/local variants, random pairs ordered by pypa/packaging's Version (the system
 * python3-packaging, /usr/bin/python3), one python process for all pairs. Run:
 *   node test/generators/generate-pep440-versions.mjs
 */
import { execFileSync } from 'node:child_process';
import { grab, pickPairs, realdataFiles, uniq, writeVectors } from './lib.mjs';

const PY = '/usr/bin/python3';
const texts = [
  ...realdataFiles('pkgdb/python'),
  ...realdataFiles('feeds/osv'),
  ...realdataFiles('feeds/ghsa'),
].map(([, t]) => t);
const candidates = uniq([
  ...grab(texts, /^version *= *"([^"]+)"/gm),
  ...grab(texts, /==\s*([0-9][^\s;,#"]*)/g),
  ...grab(texts, /^Version: *(\S+)/gm),
  ...grab(texts, /"(?:introduced|fixed|last_affected)": *"([0-9][^"]*)"/g),
  ...grab(texts, /"version": *"([0-9][^"]*)"/g),
]).filter((v) => /^[0-9][\w.!+-]*$/.test(v));
const SUFFIXES = [
  'a1',
  'b2',
  'rc1',
  '.post1',
  '.dev0',
  'rc1.dev3',
  '.post1.dev2',
  '+local.7',
  '+ubuntu1',
  '.0',
  '-1',
];
const variants = candidates.flatMap((v, i) =>
  v.includes('+') ? [] : [v + SUFFIXES[i % SUFFIXES.length], `1!${v}`],
);

const script = `
import json, sys
from packaging.version import Version, InvalidVersion
req = json.load(sys.stdin)
if req["op"] == "valid":
    out = []
    for v in req["versions"]:
        try:
            Version(v); out.append(True)
        except InvalidVersion:
            out.append(False)
else:
    out = [(Version(a) > Version(b)) - (Version(a) < Version(b)) for a, b in req["pairs"]]
json.dump(out, sys.stdout)
`;
const python = (req) =>
  JSON.parse(execFileSync(PY, ['-c', script], { input: JSON.stringify(req), encoding: 'utf8' }));

const all = uniq([...candidates, ...variants]);
const ok = python({ op: 'valid', versions: all });
const versions = all.filter((_, i) => ok[i]);
const pairs = pickPairs(versions, 450);
const answers = python({ op: 'compare', pairs });
const packaging = execFileSync(
  PY,
  ['-c', 'import packaging, sys; print(packaging.__version__, sys.version.split()[0])'],
  {
    encoding: 'utf8',
  },
).trim();
writeVectors(
  'pep440',
  [
    `Oracle: packaging.version.Version (python3-packaging, packaging/python ${packaging}, ${PY}).`,
    `Versions: ${versions.length} distinct, from realdata pkgdb/python lock files, feeds/osv and feeds/ghsa,`,
    'plus pre/post/dev/local and epoch variants.',
  ],
  pairs.map(([a, b], i) => [a, b, answers[i]]),
);
