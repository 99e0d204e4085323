/** Machine and table output goes to stdout, or to --output FILE (written atomically). */
import { writeSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

export async function writeOutput(text: string, file: string | undefined): Promise<void> {
  const body = text.endsWith('\n') ? text : text + '\n';
  if (!file || file === '-') return writeStdout(body);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, body);
  await rename(tmp, file);
}

/**
 * Writes to file descriptor 1 directly: `process.stdout` is built on first use (a file, pipe or
 * TTY stream with the modules behind it, several ms of a warm rescan, bench B2), and a report
 * goes out in one piece anyway. Node writes stdout synchronously on Linux for files, pipes and
 * TTYs, so nothing written through `process.stdout` before can be overtaken. A non-blocking
 * descriptor that is full (EAGAIN) hands the rest to `process.stdout`, which waits for it. The
 * exit code stays that of the scan when the reader has gone (EPIPE), as CI gates depend on it.
 */
async function writeStdout(body: string): Promise<void> {
  const bytes = Buffer.from(body, 'utf8');
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // the reader went away (`vigil … | head`): the rest has no one to read it, as with SIGPIPE
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw e;
  }
  const rest = bytes.subarray(offset);
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(rest, (e) => (e ? reject(e) : resolve())),
  );
}
