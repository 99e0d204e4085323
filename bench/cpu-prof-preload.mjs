/**
 * `NODE_OPTIONS=--import <this file>` with VIGIL_CPU_PROF_DIR=<dir>: a V8 CPU profile of the
 * process (Node refuses `--cpu-prof` in NODE_OPTIONS, so bench children started by harness code are
 * profiled this way). Summarise with bench/cpuprofile-top.mjs.
 *
 * Whole-process mode (default): profiles from start and writes <dir>/<pid>.cpuprofile when the
 * process exits normally or on SIGTERM / SIGINT (then exits as the signal would have, unless the
 * process has its own handlers, which then run as usual).
 *
 * Window mode (VIGIL_CPU_PROF_WINDOW=1): writes <dir>/<pid>.pid at start and profiles nothing until
 * a SIGUSR2; the next SIGUSR2 writes <dir>/<pid>-<n>.cpuprofile (n = 1, 2 …). A harness that kills
 * the process with SIGKILL (test/harness/fleet.ts) can so profile exactly its measured window
 * (bench/p2-fleet.mjs: VIGIL_BENCH_P2_CPU_PROF=<dir>).
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
  // same-thread inspector sessions answer synchronously, so stop() works inside 'exit'
  const stop = (file) =>
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, file), JSON.stringify(result.profile));
    });
  if (process.env.VIGIL_CPU_PROF_WINDOW === '1') {
    writeFileSync(join(dir, `${process.pid}.pid`), String(process.pid));
    let profiling = false;
    let n = 0;
    process.on('SIGUSR2', () => {
      if (profiling) stop(`${process.pid}-${++n}.cpuprofile`);
      else session.post('Profiler.start');
      profiling = !profiling;
    });
  } else {
    session.post('Profiler.start');
    let written = false;
    const writeOnce = () => {
      if (written) return;
      written = true;
      stop(`${process.pid}.cpuprofile`);
    };
    process.on('exit', writeOnce);
    for (const signal of ['SIGTERM', 'SIGINT']) {
      const onSignal = () => {
        writeOnce();
        // alone, this handler would keep the process alive: exit as the signal would have
        if (process.listenerCount(signal) === 1) {
          process.removeListener(signal, onSignal);
          process.kill(process.pid, signal);
        }
      };
      process.on(signal, onSignal);
    }
  }
}
