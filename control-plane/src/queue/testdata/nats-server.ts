/**
 * Test support (not built): the shared NATS server of the test machine (`VIGIL_TEST_NATS_URL`, default
 * nats://127.0.0.1:4222) for ordinary queue tests, and a private nats-server process (free port, temp store
 * directory) for tests that kill and restart the server. Never restart the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../../../test/harness/process.js';

export const SHARED_NATS_URL = process.env.VIGIL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const NATS_SERVER = process.env.VIGIL_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

/** Unique queue names for one test, so parallel tests never share a stream or subject. */
export function uniqueQueueNames(): { stream: string; subjectPrefix: string } {
  const id = randomBytes(5).toString('hex');
  return { stream: `TEST_Q_${id}`, subjectPrefix: `test.q${id}` };
}

export interface PrivateNatsServer {
  url: string;
  /** SIGKILL: no clean shutdown, as in a crash */
  kill(): Promise<void>;
  /** starts it again on the same port and store directory (streams and consumers survive) */
  start(): Promise<void>;
  /** kills it and removes the store directory */
  dispose(): Promise<void>;
}

/** Starts a JetStream-enabled nats-server on a free loopback port with a temporary store directory. */
export async function startPrivateNatsServer(): Promise<PrivateNatsServer> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'vigil-nats-'));
  let child: ChildProcess | null = null;

  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  const start = async (): Promise<void> => {
    let output = '';
    const spawned = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    spawned.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    spawned.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = spawned;
    const deadline = Date.now() + 15_000;
    // ready once the log says so: the port alone accepts connections before JetStream has recovered its streams
    while (!output.includes('Server is ready')) {
      if (spawned.exitCode !== null) throw new Error(`nats-server exited (${spawned.exitCode}): ${output}`);
      if (Date.now() > deadline) throw new Error(`nats-server not ready within 15 s: ${output}`);
      await sleep(25);
    }
    await new Promise<void>((resolve, reject) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    });
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    kill,
    start,
    async dispose() {
      await kill();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
