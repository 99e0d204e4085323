/**
 * `NODE_OPTIONS=--import <this file>` with VIGIL_CPU_PROF_DIR=<dir>: a V8 CPU profile of the
 * process, written to <dir>/<pid>.cpuprofile when it exits (Node refuses `--cpu-prof` in
 * NODE_OPTIONS, so bench children started by harness code are profiled this way). Summarise with
 * bench/cpuprofile-top.mjs.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import process from 'node:process';

const dir = process.env.VIGIL_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  let written = false;
  // same-thread inspector sessions answer synchronously, so this works inside 'exit'
  process.on('exit', () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
