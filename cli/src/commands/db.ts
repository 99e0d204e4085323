/**
 * `vigil db update | build | status | export | import`: the vulnerability database.
 * Default database: $VIGIL_DB, else `<cache dir>/db/vigil.db` (cache dir as for layers:
 * $VIGIL_CACHE_DIR or ~/.cache/vigil). Human output goes to stderr, `--format json` to stdout.
 */
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EngineError, FEED_NAMES } from '@vigil/engine/core';
import { collectList } from '../options.js';
import { writeOutput } from '../output/write.js';
import { buildSummary, renderStatus, updateProgressLine, updateSummary } from './db-output.js';
import { defaultCacheDir, defaultDbPath } from '../paths.js';

/** The database side of the engine, loaded only when a db command runs (start-up of scans stays small). */
const engineDb = () => import('@vigil/engine/db');

function collectMirror(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new InvalidArgumentError(`"${value}" is not FEED=URL`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

const say = (lines: string[]) => {
  if (lines.length) process.stderr.write(lines.map((l) => `vigil: ${l}`).join('\n') + '\n');
};

/** Runs `fn` with an AbortSignal fired by SIGINT; an abort surfaces as ENG_ABORTED. */
async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new EngineError('ENG_ABORTED', 'interrupted'));
  process.once('SIGINT', onSignal);
  try {
    return await fn(controller.signal);
  } catch (e) {
    if (controller.signal.aborted && controller.signal.reason instanceof EngineError)
      throw controller.signal.reason;
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

interface UpdateOpts {
  db?: string;
  sources?: string[];
  mirror?: Record<string, string>;
  workDir?: string;
  quiet?: boolean;
  format: 'text' | 'json';
}

function updateCommand(db: Command): void {
  db.command('update')
    .description('download what changed in each feed and update the database (online)')
    .option('--db <file>', 'database file (default $VIGIL_DB or ~/.cache/vigil/db/vigil.db)')
    .option(
      '--sources <list>',
      `feeds to update, comma-separated (default all: ${FEED_NAMES.join(',')})`,
      collectList,
    )
    .option('--mirror <feed=url>', 'base URL (mirror) of one feed; repeatable', collectMirror)
    .option('--work-dir <dir>', 'downloads and resume state (default ~/.cache/vigil/feeds)')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addOption(
      new Option('-f, --format <format>', 'summary format').choices(['text', 'json']).default('text'),
    )
    .action(async (opts: UpdateOpts) => {
      const path = opts.db ?? defaultDbPath();
      const { selectFeeds, updateSnapshot } = await engineDb();
      const feeds = selectFeeds(opts.sources);
      for (const name of Object.keys(opts.mirror ?? {})) selectFeeds([name]);
      const progress = updateProgressLine(!opts.quiet && process.stderr.isTTY === true);
      const dispatcher = await proxyDispatcher();
      const result = await interruptible((signal) =>
        updateSnapshot({
          db: path,
          feeds,
          ...(dispatcher ? { dispatcher } : {}),
          baseUrls: opts.mirror,
          credentials: { nvdApiKey: process.env.NVD_API_KEY, githubToken: process.env.GITHUB_TOKEN },
          workDir: opts.workDir ?? join(defaultCacheDir(), 'feeds'),
          signal,
          onProgress: progress.onProgress,
        }),
      ).finally(progress.done);
      if (opts.format === 'json') await writeOutput(JSON.stringify(result, null, 2), undefined);
      if (!opts.quiet) say(updateSummary(path, result));
      // the snapshot was published with every feed that worked; a failed feed still fails the command
      const failed = result.feeds.filter((f) => f.status === 'failed');
      if (failed.length > 0) {
        const list = failed.map((f) => `${f.name} (${f.error ?? 'failed'})`).join(', ');
        throw new EngineError(
          'ENG_DB_BUILD_FAILED',
          `${failed.length === 1 ? 'feed' : 'feeds'} ${list} failed; their previous data is kept and the other feeds were updated`,
        );
      }
    });
}

function buildCommand(db: Command): void {
  db.command('build')
    .description('build a database from a directory of native feed files (offline; .gz and .zip read)')
    .requiredOption(
      '--from <dir>',
      'directory of feed files (NVD pages, OSV JSON/zips, tracker JSON, secdb, KEV, EPSS)',
    )
    .requiredOption('--out <file>', 'database file to write (replaced atomically)')
    .option('--sources <list>', 'only these feeds, comma-separated', collectList)
    .option('-q, --quiet', 'no summary on stderr')
    .addOption(new Option('-f, --format <format>', 'result format').choices(['text', 'json']).default('text'))
    .action(
      async (opts: { from: string; out: string; sources?: string[]; quiet?: boolean; format: string }) => {
        const { selectFeeds, buildSnapshot } = await engineDb();
        const feeds = selectFeeds(opts.sources);
        const result = await interruptible((signal) =>
          buildSnapshot({ from: opts.from, out: opts.out, feeds, signal }),
        );
        if (opts.format === 'json') await writeOutput(JSON.stringify(result, null, 2), undefined);
        if (!opts.quiet) say(buildSummary(opts.out, result));
      },
    );
}

function statusCommand(db: Command): void {
  db.command('status')
    .description('version, age, and per-source counts and freshness of the database')
    .option('--db <file>', 'database file (default $VIGIL_DB or ~/.cache/vigil/db/vigil.db)')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (opts: { db?: string; format: 'table' | 'json' }) => {
      const path = opts.db ?? defaultDbPath();
      const { readSnapshotMeta } = await engineDb();
      const meta = readSnapshotMeta(path);
      await writeOutput(
        opts.format === 'json' ? JSON.stringify({ path, ...meta }, null, 2) : renderStatus(path, meta),
        undefined,
      );
    });
}

function transferCommands(db: Command): void {
  db.command('export')
    .description('pack the database and a manifest with its version hash into a .tar.gz (air-gapped sites)')
    .option('--db <file>', 'database file (default $VIGIL_DB or ~/.cache/vigil/db/vigil.db)')
    .requiredOption('--out <file>', 'archive to write (.tar.gz)')
    .action(async (opts: { db?: string; out: string }) => {
      const { exportSnapshot } = await engineDb();
      const manifest = await exportSnapshot({ db: opts.db ?? defaultDbPath(), out: opts.out });
      say([`exported version ${manifest.version.slice(0, 12)} (${manifest.size} bytes) to ${opts.out}`]);
    });
  db.command('import')
    .description('verify an archive made by `vigil db export` and install its database')
    .argument('<archive>', 'the .tar.gz made by `vigil db export`')
    .option('--db <file>', 'database file to replace (default $VIGIL_DB or ~/.cache/vigil/db/vigil.db)')
    .action(async (archive: string, opts: { db?: string }) => {
      const path = opts.db ?? defaultDbPath();
      const { importSnapshot } = await engineDb();
      const meta = await importSnapshot({ archive, db: path });
      say([`imported version ${meta.version.slice(0, 12)} (built ${meta.builtAt}) into ${path}`]);
    });
}

/** The `db` command group. */
export function dbCommand(): Command {
  const db = new Command('db').description(
    'the vulnerability database: update, build, status, export, import',
  );
  db.exitOverride();
  updateCommand(db);
  buildCommand(db);
  statusCommand(db);
  transferCommands(db);
  return db;
}

/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) for feed downloads: an undici
 * EnvHttpProxyAgent when one is set, loaded only then.
 */
async function proxyDispatcher() {
  const env = process.env;
  if (!(env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy)) return undefined;
  const { EnvHttpProxyAgent } = await import('undici');
  return new EnvHttpProxyAgent();
}
