/**
 * Docker credential helpers: `docker-credential-<name> get` reads the server URL on stdin and
 * prints `{"ServerURL","Username","Secret"}`; `Username` `<token>` marks an identity token.
 * Protocol: https://github.com/docker/docker-credential-helpers#development
 */
import { spawn } from 'node:child_process';
import { EngineError } from '../../errors.js';

export type Credentials =
  | { kind: 'basic'; username: string; password: string }
  /** OAuth2 refresh token (docker `identitytoken`), exchanged at the token realm. */
  | { kind: 'identity-token'; username?: string; token: string }
  /** Registry bearer token sent as is. */
  | { kind: 'bearer'; token: string };

const OUTPUT_MAX = 1024 * 1024;
export const HELPER_TIMEOUT_MS = 30_000;

function failed(name: string, why: string, cause?: unknown): EngineError {
  return new EngineError(
    'ENG_CREDENTIALS_HELPER_FAILED',
    `credential helper docker-credential-${name}: ${why}`,
    { cause },
  );
}

/**
 * Runs `docker-credential-<helper> get` for `serverUrl`.
 *
 * @returns the credentials, or undefined when the helper reports it has none for that server
 *   ("credentials not found").
 * @throws EngineError ENG_CREDENTIALS_HELPER_FAILED when the helper is missing, fails, times out
 *   or prints something that is not a credentials object; ENG_ABORTED on abort.
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) throw failed(helper, 'invalid helper name');
  if (options.signal?.aborted)
    throw new EngineError('ENG_ABORTED', 'credential lookup aborted', { cause: options.signal.reason });
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(`docker-credential-${helper}`, ['get'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? HELPER_TIMEOUT_MS,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size > OUTPUT_MAX) child.kill();
        else into.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.name === 'AbortError')
          reject(new EngineError('ENG_ABORTED', 'credential lookup aborted', { cause: error }));
        else if (error.code === 'ENOENT') reject(failed(helper, 'not found on PATH', error));
        else reject(failed(helper, error.message, error));
      });
      child.on('close', (exit, signal) => {
        if (signal) reject(failed(helper, `killed by ${signal} (timeout or oversized output)`));
        else
          resolve({
            code: exit,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          });
      });
      child.stdin.on('error', () => undefined); // helper may exit without reading
      child.stdin.end(serverUrl);
    },
  );
  if (code !== 0) {
    const said = (stdout.trim() || stderr.trim()).slice(0, 300);
    if (/credentials not found/i.test(said)) return undefined;
    throw failed(helper, `exited with ${code}${said ? `: ${said}` : ''}`);
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(stdout) as typeof answer;
  } catch {
    throw failed(helper, 'printed something that is not JSON');
  }
  const { Username: username, Secret: secret } = answer ?? {};
  if (typeof secret !== 'string' || secret === '') throw failed(helper, 'answer has no Secret');
  if (username === '<token>') return { kind: 'identity-token', token: secret };
  if (typeof username !== 'string') throw failed(helper, 'answer has no Username');
  return { kind: 'basic', username, password: secret };
}
