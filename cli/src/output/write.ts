/** Machine and table output goes to stdout, or to --output FILE (written atomically). */
import { rename, writeFile } from 'node:fs/promises';

export async function writeOutput(text: string, file: string | undefined): Promise<void> {
  const body = text.endsWith('\n') ? text : text + '\n';
  if (!file || file === '-') {
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(body, (e) => (e ? reject(e) : resolve())),
    );
    return;
  }
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, body);
  await rename(tmp, file);
}
