/**
 * The fleet's programs as real child processes of the built CLI, for the fleet scenario tests: `vigil
 * control-plane` (restartable on the same ports and stores, killable with SIGKILL) and `vigil worker` (its JSON log
 * lines parsed into events, so a test sees which worker started, completed, cancelled or dropped which scan).
 * Every process started here is remembered and `killAll()` ends whatever is still running (call it in afterAll).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { VIGIL_BIN } from '../support/cli.js';
import { REPO_ROOT } from '../support/realdata.js';

type Env = Record<string, string>;

/** One log line of a worker: its message, the scan it is about, and when the test heard it. */
export interface WorkerEvent {
  msg: string;
  scanId?: string;
  attempt?: number;
  /** `performance.now()` of the test process when the line arrived */
  at: number;
  line: Record<string, unknown>;
}

const live = new Set<ChildProcess>();
const KEEP_OUTPUT = 200_000;

/** A spawned `vigil …` with its output kept (the last 200 kB) for failure messages. */
class Program {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private out = '';

  constructor(args: string[], env: Env, onLine?: (line: string) => void) {
    this.child = spawn(process.execPath, [VIGIL_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        resolve(code ?? (signal ? -1 : null));
      }),
    );
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.keep(chunk);
      if (!onLine) return;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) onLine(line);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.keep(chunk));
  }

  private keep(chunk: Buffer): void {
    this.out = (this.out + chunk.toString()).slice(-KEEP_OUTPUT);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  /** Sends `signal` and waits for the exit; the exit code (-1 when ended by the signal). */
  async signal(signal: NodeJS.Signals): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

/** `vigil control-plane` on fixed ports, so workers and clients find it again after a restart. */
export class ControlPlaneProcess {
  private program: Program | null = null;
  readonly url: string;
  readonly grpcAddress: string;

  private readonly env: Env;

  constructor(env: Env, ports: { http: number; grpc: number }) {
    this.env = { ...env, PORT: String(ports.http), VIGIL_GRPC_PORT: String(ports.grpc) };
    this.url = `http://127.0.0.1:${ports.http}`;
    this.grpcAddress = `127.0.0.1:${ports.grpc}`;
  }

  /** Starts it and waits until /readyz answers 200 (its stores and queue are reachable). */
  async start(): Promise<void> {
    if (this.program?.running) throw new Error('the control plane is already running');
    const program = new Program(['control-plane'], this.env);
    this.program = program;
    for (const deadline = Date.now() + 120_000; ;) {
      if (!program.running) {
        throw new Error(`vigil control-plane exited (${await program.exited}): ${program.output()}`);
      }
      const ready = await fetch(`${this.url}/readyz`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`vigil control-plane never got ready: ${program.output()}`);
      await sleep(100);
    }
  }

  /** SIGKILL: a crash, nothing drained. */
  async kill(): Promise<void> {
    await this.program?.signal('SIGKILL');
  }

  /** SIGTERM: graceful shutdown; resolves with the exit code. */
  async stop(): Promise<number | null> {
    return (await this.program?.signal('SIGTERM')) ?? null;
  }

  get running(): boolean {
    return this.program?.running ?? false;
  }

  output(): string {
    return this.program?.output() ?? '';
  }
}

/** One `vigil worker` process. */
export class WorkerProcess {
  readonly events: WorkerEvent[] = [];
  private readonly program: Program;
  private readonly listeners = new Set<() => void>();

  constructor(env: Env) {
    this.program = new Program(['worker'], env, (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return; // not a log line
      }
      this.events.push({
        msg: String(line.msg),
        ...(typeof line.scanId === 'string' ? { scanId: line.scanId } : {}),
        ...(typeof line.attempt === 'number' ? { attempt: line.attempt } : {}),
        at: performance.now(),
        line,
      });
      for (const listener of this.listeners) listener();
    });
  }

  get pid(): number {
    return this.program.child.pid!;
  }

  get running(): boolean {
    return this.program.running;
  }

  get exited(): Promise<number | null> {
    return this.program.exited;
  }

  output(): string {
    return this.program.output();
  }

  /** Scan ids of the events with this message, in order. */
  scans(msg: string): string[] {
    return this.events.filter((e) => e.msg === msg && e.scanId).map((e) => e.scanId!);
  }

  /** Resolves with the first event (seen already or to come) matching `predicate`; rejects if the worker exits first. */
  waitFor(
    what: string,
    predicate: (event: WorkerEvent) => boolean,
    timeoutMs = 180_000,
  ): Promise<WorkerEvent> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      const check = (): void => {
        const found = this.events.find(predicate);
        if (found) finish(() => resolve(found));
        else if (!this.running) {
          finish(() => reject(new Error(`worker ${this.pid} exited before ${what}: ${this.output()}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`worker ${this.pid}: gave up waiting for ${what}`))),
        timeoutMs,
      );
      this.listeners.add(check);
      void this.program.exited.then(check);
      check();
    });
  }

  /** SIGKILL: the worker dies mid-scan, nothing acknowledged or handed back. */
  kill(): Promise<number | null> {
    return this.program.signal('SIGKILL');
  }

  /** SIGTERM: drains (running scans get VIGIL_DRAIN_TIMEOUT), resolves with the exit code. */
  stop(): Promise<number | null> {
    return this.program.signal('SIGTERM');
  }
}

/**
 * Waits until each listed scan has a `scan completed` line from some worker, and returns how many each has. A
 * worker logs that line after the control plane answered its report, so a scan's row can be `completed` before
 * the line arrives: read completions through this, not right after the scans table says they are done.
 */
export async function waitForCompletionLines(
  workers: readonly WorkerProcess[],
  scanIds: readonly string[],
  timeoutMs = 60_000,
): Promise<number[]> {
  const counts = (): number[] => {
    const seen = new Map<string, number>();
    for (const w of workers)
      for (const id of w.scans('scan completed')) seen.set(id, (seen.get(id) ?? 0) + 1);
    return scanIds.map((id) => seen.get(id) ?? 0);
  };
  const deadline = Date.now() + timeoutMs;
  while (counts().includes(0) && Date.now() < deadline) await sleep(50);
  return counts();
}

/** Starts a worker and waits for its `worker start` log line. */
export async function startWorkerProcess(env: Env): Promise<WorkerProcess> {
  const worker = new WorkerProcess(env);
  await worker.waitFor('worker start', (e) => e.msg === 'worker start', 120_000);
  return worker;
}

/** SIGKILLs every process this module started that is still running, and waits for them to exit. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
