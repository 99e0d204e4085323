/**
 * `vigil image`, `vigil fs`, `vigil rootfs`, `vigil sbom`: build the inventory, match it against
 * the vulnerability database when there is one, apply the CI policy and print the report.
 */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  EngineError,
  FINDING_SORTS,
  FsLayerCache,
  parsePlatform,
  parseSeverities,
  readSbom,
  renderReport,
  REPORT_FORMATS,
  scanImage,
  type FindingSort,
  type ReportFormat,
  type ScanImageOptions,
  type ScanResult,
  type ScanTarget,
  type Severity,
} from '@vigil/engine/core';
import { progressReporter } from '../output/progress.js';
import { writeOutput } from '../output/write.js';
import { collectList, parseDuration, parseSize } from '../options.js';
import { defaultCacheDir, defaultDbPath } from '../paths.js';
import type { FleetTarget } from '../fleet/client.js';
import type { VulnOutcome } from './vulns.js';

export const FORMATS = REPORT_FORMATS;

/** The options addGateOptions defines. */
export interface GateOpts {
  severity?: Severity[];
  exitCode?: number;
  ignoreUnfixed?: boolean;
  ignorefile?: string;
  vex?: string[];
  sort?: FindingSort;
}

interface ReportOpts extends GateOpts {
  format: ReportFormat;
  output?: string;
  quiet?: boolean;
  db?: string;
  skipDb?: boolean;
  severityPolicy?: 'nvd' | 'vendor';
  dbMaxAge: number;
  /** --server / VIGIL_SERVER and --token / VIGIL_TOKEN */
  server?: string;
  token?: string;
  /** false with --no-upload: the fleet's database only */
  upload: boolean;
  /** the checked server and token (set by withFleet) */
  fleet?: FleetTarget;
  cacheDir?: string;
}

interface CommonOpts extends ReportOpts {
  cache: boolean;
  analyzers?: string[];
  maxFileSize?: number;
  maxImageSize?: number;
  timeout?: number;
}

interface ImageOpts extends CommonOpts {
  input?: string;
  platform?: string;
  insecureRegistry?: string[];
  insecure?: boolean;
  username?: string;
  password?: string;
  registryToken?: string;
}

export function parseExitCode(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 255)
    throw new InvalidArgumentError(`"${text}" is not an exit code (0–255)`);
  return n;
}

export function parseSeverityList(text: string, previous: Severity[] = []): Severity[] {
  try {
    return [...previous, ...parseSeverities(text)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/**
 * What to report and when to fail, shared by local scans and `remote-scan` (the same semantics,
 * policy.ts): severities, exit code, unfixed, ignore file, VEX, order.
 */
export function addGateOptions(cmd: Command): Command {
  return cmd
    .option(
      '-s, --severity <list>',
      'severities to report and gate on, e.g. CRITICAL,HIGH',
      parseSeverityList,
    )
    .option('--exit-code <n>', 'exit with N when a reported vulnerability remains (default 0)', parseExitCode)
    .option('--ignore-unfixed', 'leave out vulnerabilities without a fixed version')
    .option(
      '--ignorefile <file>',
      'ignore file (.vigilignore YAML or .trivyignore; default ./.vigilignore when present)',
    )
    .option(
      '--vex <file>',
      'OpenVEX or CycloneDX VEX document (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .addOption(
      new Option('--sort <order>', 'finding order: severity, or risk (KEV, EPSS, severity)').choices(
        FINDING_SORTS,
      ),
    );
}

/** Options every report-producing command takes (Trivy's names where Trivy has them). */
function addReportOptions(cmd: Command): Command {
  const withDb = cmd
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('-q, --quiet', 'no progress or notes on stderr')
    .option('--db <file>', 'vulnerability database (default $VIGIL_DB or ~/.cache/vigil/db/vigil.db)')
    .option('--skip-db', 'list packages only, without matching vulnerabilities');
  return addGateOptions(withDb)
    .addOption(
      new Option('--severity-policy <policy>', 'whose CVSS comes first: nvd, or the distro/vendor').choices([
        'nvd',
        'vendor',
      ]),
    )
    .option(
      '--db-max-age <duration>',
      'warn when the database is older than this',
      parseDuration,
      7 * 24 * 3_600_000,
    )
    .option(
      '--server <url>',
      "Vigil control plane (or VIGIL_SERVER): match with the fleet's database, upload the report (docs/ci.md)",
    )
    .option('--token <token>', 'API token for --server (or VIGIL_TOKEN); uploading needs the `ci` scope')
    .option('--no-upload', "with --server: match with the fleet's database but do not upload the report");
}

/**
 * Checks --server/--token (or VIGIL_SERVER/VIGIL_TOKEN) before any work; the fleet client is loaded only
 * when a server is given. @throws ENG_INVALID_ARGUMENT for a bad URL or a missing token
 */
async function withFleet<T extends ReportOpts>(opts: T): Promise<T> {
  const server = opts.server ?? process.env.VIGIL_SERVER;
  if (!server) return opts;
  const { fleetTarget } = await import('../fleet/client.js');
  return { ...opts, fleet: fleetTarget(server, opts.token ?? process.env.VIGIL_TOKEN) };
}

function addScanOptions(cmd: Command): Command {
  return addReportOptions(cmd)
    .option('--cache-dir <dir>', 'layer cache directory (default $VIGIL_CACHE_DIR or ~/.cache/vigil)')
    .option('--no-cache', 'do not read or write the layer cache')
    .option(
      '--analyzers <list>',
      'analyzer selectors: names or tags, +x adds, -x removes (e.g. -lang/java)',
      collectList,
    )
    .option('--max-file-size <size>', 'largest file handed to an analyzer (default 512MiB)', parseSize)
    .option('--max-image-size <size>', 'largest uncompressed image (default 64GiB)', parseSize)
    .option('--timeout <duration>', 'give up after this long (e.g. 10m)', parseDuration);
}

/** Splits `docker-archive:PATH`, `oci:PATH`, `oci-archive:PATH`, `dir:PATH`, `registry:REF` prefixes (skopeo/grype style). */
export function targetFromRef(ref: string): ScanTarget {
  const m = /^(docker-archive|oci-archive|oci-dir|oci|dir|rootfs|registry|docker):(.+)$/.exec(ref);
  if (!m) return { ref };
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'registry' || scheme === 'docker') return { ref: rest.replace(/^\/\//, '') };
  if (scheme === 'dir' || scheme === 'rootfs') return { dir: rest, mode: 'rootfs' };
  return { input: rest };
}

const howToGetADb = (path: string) =>
  `get one with \`vigil db update\` (online) or \`vigil db build --from DIR --out ${path}\` (offline, see docs/vulnerability-db.md)`;

/**
 * The inventory alone (--skip-db, or no database yet), or the matched result with the policy
 * applied; the database side of the engine is loaded only when there is a database to match with.
 */
async function matchIfPossible(scan: ScanResult, opts: ReportOpts): Promise<VulnOutcome> {
  const inventoryOnly = (notes: string[]): VulnOutcome => ({
    result: scan,
    exitCode: 0,
    notes,
    warnings: [],
  });
  if (opts.skipDb) return inventoryOnly([]);
  const notes: string[] = [];
  let path = opts.db ?? defaultDbPath();
  if (opts.fleet && !opts.db) {
    // the fleet's database instead of the internet's: downloaded once, then a 304 per run (docs/ci.md)
    const { fleetDb } = await import('../fleet/snapshot.js');
    const got = await fleetDb(opts.fleet, opts.cacheDir ?? defaultCacheDir());
    path = got.path;
    if (got.rejectedCache)
      notes.push(
        `the cached fleet database ${got.version} failed its SHA-256 check: discarded and downloaded again`,
      );
    notes.push(
      `using the vulnerability database ${got.version} of ${opts.fleet.server} (${got.origin === 'cached' ? 'cached, unchanged' : 'downloaded'})`,
    );
  }
  if (!existsSync(path)) {
    // gating without data would pass every build: that must be an error, not a note
    if (opts.db || opts.exitCode) {
      throw new EngineError('ENG_DB_NOT_FOUND', `no vulnerability database at ${path}; ${howToGetADb(path)}`);
    }
    return inventoryOnly([
      `no vulnerability database at ${path}: listing packages only; ${howToGetADb(path)}`,
    ]);
  }
  const { matchAndGate } = await import('./vulns.js');
  const outcome = await matchAndGate(scan, {
    db: path,
    dbMaxAge: opts.dbMaxAge,
    ...(opts.fleet && !opts.db
      ? { refreshHint: "the fleet's control plane updates it (GET /api/v1/db shows its sync)" }
      : {}),
    ...(opts.severity ? { severity: opts.severity } : {}),
    ...(opts.exitCode !== undefined ? { exitCode: opts.exitCode } : {}),
    ...(opts.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
    ...(opts.ignorefile ? { ignorefile: opts.ignorefile } : {}),
    ...(opts.vex ? { vex: opts.vex } : {}),
    ...(opts.severityPolicy ? { severityPolicy: opts.severityPolicy } : {}),
  });
  return { ...outcome, notes: [...notes, ...outcome.notes] };
}

/** Matches, applies the policy, prints the report; sets the process exit code the gate decided. */
async function report(scan: ScanResult, opts: ReportOpts): Promise<void> {
  const outcome = await matchIfPossible(scan, opts);
  // the table shows matching warnings itself; other formats carry them in the document, so say them on stderr too
  const notes = opts.format === 'table' ? outcome.notes : [...outcome.warnings, ...outcome.notes];
  if (!opts.quiet) for (const n of notes) process.stderr.write(`vigil: ${n}\n`);
  const text = await renderReport(outcome.result, opts.format, {
    color: opts.format === 'table' && !opts.output && process.stdout.isTTY === true && !process.env.NO_COLOR,
    ...(opts.sort ? { sort: opts.sort } : {}),
  });
  await writeOutput(text, opts.output);
  if (opts.fleet && opts.upload) {
    // the whole report (before --severity / --ignore-unfixed), so the console shows every finding
    const json = await renderReport(outcome.kept ?? outcome.result, 'json');
    const { uploadReport } = await import('../fleet/upload.js');
    const uploaded = await uploadReport(opts.fleet, json);
    if (!opts.quiet)
      process.stderr.write(
        `vigil: report uploaded to ${opts.fleet.server} as scan ${uploaded.scanId}: ${uploaded.consoleUrl}\n`,
      );
  }
  if (outcome.exitCode !== 0) process.exitCode = outcome.exitCode;
}

async function run(target: ScanTarget, given: ImageOpts): Promise<void> {
  const opts = await withFleet(given);
  const progress = progressReporter(!opts.quiet && process.stderr.isTTY === true);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new EngineError('ENG_ABORTED', 'interrupted'));
  process.once('SIGINT', onSignal);
  const timer = opts.timeout
    ? setTimeout(
        () => controller.abort(new EngineError('ENG_ABORTED', `timed out after ${opts.timeout} ms`)),
        opts.timeout,
      )
    : undefined;
  const registry: NonNullable<ScanImageOptions['registry']> = {};
  if (opts.insecureRegistry?.length) registry.insecureRegistries = opts.insecureRegistry;
  const username = opts.username ?? process.env.VIGIL_USERNAME;
  const password = opts.password ?? process.env.VIGIL_PASSWORD;
  const token = opts.registryToken ?? process.env.VIGIL_REGISTRY_TOKEN;
  if (username && password) registry.auth = { username, password };
  else if (token) registry.auth = { token };
  if (opts.insecure && 'ref' in target && !('input' in target)) {
    const host = target.ref.split('/')[0]!;
    if (host.includes('.') || host.includes(':') || host === 'localhost') {
      registry.insecureRegistries = [...(registry.insecureRegistries ?? []), host];
    }
  }
  let scan: ScanResult;
  try {
    scan = await scanImage(target, {
      platform: opts.platform ? parsePlatform(opts.platform) : undefined,
      registry,
      cache: opts.cache ? new FsLayerCache({ dir: opts.cacheDir ?? defaultCacheDir() }) : undefined,
      analyzerSelectors: opts.analyzers,
      limits: {
        ...(opts.maxFileSize ? { maxFileSize: opts.maxFileSize } : {}),
        ...(opts.maxImageSize ? { maxImageBytes: opts.maxImageSize, maxLayerBytes: opts.maxImageSize } : {}),
      },
      signal: controller.signal,
      onEvent: progress.onEvent,
    });
  } catch (e) {
    if (controller.signal.aborted && controller.signal.reason instanceof EngineError)
      throw controller.signal.reason;
    throw e;
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    if (timer) clearTimeout(timer);
  }
  await report(scan, opts);
}

export function imageCommand(): Command {
  return addScanOptions(
    new Command('image')
      .description(
        'scan a container image: a registry reference, or --input with a docker-archive or OCI layout',
      )
      .argument(
        '[ref]',
        'image reference (alpine:3.19, ghcr.io/o/r@sha256:…), or docker-archive:PATH / oci:PATH',
      )
      .option('-i, --input <path>', 'docker-archive (.tar, .tar.gz) or OCI layout (directory or tar)')
      .option(
        '--platform <os/arch[/variant]>',
        'platform to pick from a multi-arch image (default linux/amd64)',
      )
      .option(
        '--insecure-registry <host>',
        'allow plain HTTP for this registry host (repeatable)',
        collectList,
      )
      .option('--insecure', 'allow plain HTTP for the registry of the reference')
      .option('--username <user>', 'registry user name (or VIGIL_USERNAME)')
      .option('--password <password>', 'registry password (or VIGIL_PASSWORD)')
      .option('--registry-token <token>', 'registry bearer token (or VIGIL_REGISTRY_TOKEN)'),
  ).action(async (ref: string | undefined, opts: ImageOpts) => {
    if (!ref && !opts.input)
      throw new EngineError('ENG_INVALID_ARGUMENT', 'give an image reference or --input PATH');
    const target: ScanTarget = opts.input
      ? { input: opts.input, ...(ref ? { ref } : {}) }
      : targetFromRef(ref!);
    await run(target, opts);
  });
}

export function fsCommand(): Command {
  return addScanOptions(
    new Command('fs')
      .description('scan a project directory or root filesystem: installed packages and lock files')
      .argument('<dir>', 'directory'),
  ).action(async (dir: string, opts: CommonOpts) => run({ dir, mode: 'fs' }, opts));
}

export function rootfsCommand(): Command {
  return addScanOptions(
    new Command('rootfs')
      .description('scan an unpacked root filesystem: installed packages only')
      .argument('<dir>', 'directory'),
  ).action(async (dir: string, opts: CommonOpts) => run({ dir, mode: 'rootfs' }, opts));
}

export function sbomCommand(): Command {
  return addReportOptions(
    new Command('sbom')
      .description('match the packages of a CycloneDX or SPDX JSON SBOM against the vulnerability database')
      .argument('<file>', 'CycloneDX (1.4–1.6) or SPDX 2.x JSON document'),
  ).action(async (file: string, given: ReportOpts) => {
    const opts = await withFleet(given);
    await report(await readSbom(file), opts);
  });
}
