/**
 * Start-up of `vigil` (bin/vigil.js): runs the bundled CLI (dist/bundle/vigil.cjs, one CommonJS
 * file made by cli/build.mjs) with V8's code cache, so a run deserialises the compiled bundle
 * instead of parsing and compiling it again: about 30 ms of every invocation, a fifth of a warm
 * rescan (bench B2). Node 20 has no compile cache of its own (module.enableCompileCache() is
 * Node ≥ 22.1) and none for ES modules, hence one CommonJS bundle run as a vm.Script. This module
 * and bin/vigil.js are CommonJS too: an ES module entry would start Node's ES module loader, a
 * few ms of every run that a scan does not need.
 *
 * The cache (dist/bundle/vigil.cjs.v8cache) is written by the build, right after the bundle, by
 * training runs that each add what they compiled (cli/code-cache-training.mjs): the
 * CRC-32 of the bundle's bytes (4 bytes, big-endian), then V8's data. A cache whose CRC does not
 * match the bundle is not offered to V8, and V8 rejects data from another V8 version or other
 * flags; either way the bundle is compiled from source as usual, only slower. Runs never write it.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS module (see above) */
import buffer = require('node:buffer');
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');
import vm = require('node:vm');
import zlib = require('node:zlib');
/* eslint-enable @typescript-eslint/no-require-imports */

const BUNDLE_FILE = path.join(__dirname, 'bundle', 'vigil.cjs');
const CODE_CACHE_FILE = `${BUNDLE_FILE}.v8cache`;

interface LaunchOptions {
  /**
   * write the cache again when the process exits, with what this run compiled on top of what the
   * cache held (cli/code-cache-training.mjs)
   */
  writeCodeCache?: boolean;
}

type CommonJsWrapper = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

/** V8's data of the cache file when it was made from exactly these bundle bytes. */
function readCodeCache(bundleCrc: number): Buffer | undefined {
  let file: Buffer;
  try {
    file = fs.readFileSync(CODE_CACHE_FILE);
  } catch {
    return undefined;
  }
  return file.length > 4 && file.readUInt32BE(0) === bundleCrc ? file.subarray(4) : undefined;
}

/** Runs the bundled CLI in this process, as Node would run it as a CommonJS module. */
function launch(options: LaunchOptions = {}): void {
  const source = fs.readFileSync(BUNDLE_FILE);
  const crc = zlib.crc32(source);
  // the build keeps the bundle ASCII (cli/build.mjs): as Latin-1 it becomes a one-byte string by a
  // plain copy (an external string when large), where UTF-8 decoding costs 2–3× that, ~5 ms a run
  const text = buffer.isAscii(source) ? source.toString('latin1') : source.toString('utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${text}\n})`, {
    filename: BUNDLE_FILE,
    cachedData: readCodeCache(crc),
    // import() of a package left outside the bundle goes to Node's ES module loader
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (options.writeCodeCache) {
    // after the run, so the functions it compiled are in the cache too
    process.once('exit', () => {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(crc);
      fs.writeFileSync(CODE_CACHE_FILE, Buffer.concat([header, script.createCachedData()]));
    });
  }
  const run = script.runInThisContext() as CommonJsWrapper;
  const module = { exports: {} };
  run(module.exports, nodeModule.createRequire(BUNDLE_FILE), module, BUNDLE_FILE, path.dirname(BUNDLE_FILE));
}

export = { launch };
