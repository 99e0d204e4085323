/**
 * `vigil remote-scan REF --server URL --token T`: ask the fleet to scan a pushed image, wait for the result and
 * gate on it with the same `--severity`, `--ignore-unfixed`, `--exit-code`, ignore file and VEX semantics as a
 * local scan (policy.ts), printing the same report formats. Failed, cancelled and timed-out scans exit with
 * their own codes (docs/ci.md, docs/errors.md).
 */
import { Command, Option } from 'commander';
import { EngineError, renderReport, type ReportFormat } from '@vigil/engine/core';
import { writeOutput } from '../output/write.js';
import { parseDuration } from '../options.js';
import { addGateOptions, FORMATS, type GateOpts } from './scan.js';

interface RemoteScanOpts extends GateOpts {
  server?: string;
  token?: string;
  format: ReportFormat;
  output?: string;
  quiet?: boolean;
  timeout: number;
  force?: boolean;
}

async function remoteScan(reference: string, opts: RemoteScanOpts): Promise<void> {
  const server = opts.server ?? process.env.VIGIL_SERVER;
  if (!server)
    throw new EngineError('ENG_INVALID_ARGUMENT', 'remote-scan needs --server URL (or VIGIL_SERVER)');
  const [{ fleetTarget, callJson }, remote, { applyPolicy }, { FleetError }] = await Promise.all([
    import('../fleet/client.js'),
    import('../fleet/remote-scan.js'),
    import('./policy.js'),
    import('../fleet/errors.js'),
  ]);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const note = (text: string) => {
    if (!opts.quiet) process.stderr.write(`vigil: ${text}\n`);
  };
  try {
    const fleet = fleetTarget(server, opts.token ?? process.env.VIGIL_TOKEN, controller.signal);
    const deadline = Date.now() + opts.timeout;
    const { scan, image, created } = await remote.requestRemoteScan(fleet, reference, opts.force ?? false);
    note(
      `${created ? 'requested' : 'following the active'} scan ${scan.id} of ${image.repository}@${scan.digest}: ${fleet.server}/images/${image.id}`,
    );
    const final = await remote.waitForRemoteScan(fleet, scan, deadline);
    if (final.status === 'failed') {
      const why = final.error ? `${final.error.code}: ${final.error.message}` : 'no reason recorded';
      throw new FleetError('CLI_REMOTE_SCAN_FAILED', `scan ${final.id} of ${reference} failed: ${why}`);
    }
    if (final.status === 'cancelled') {
      throw new FleetError('CLI_REMOTE_SCAN_CANCELLED', `scan ${final.id} of ${reference} was cancelled`);
    }
    const { scanId, findings } = await remote.remoteFindings(fleet, final);
    if (scanId !== final.id) note(`showing scan ${scanId}: a newer scan of the image completed meanwhile`);
    const version = final.matchedDbVersion ?? final.dbVersion ?? null;
    const current = (await callJson<{ version: string; builtAt: string | null }>(fleet, 'GET', '/db')).body;
    const db =
      version === null
        ? null
        : { version, builtAt: current.version === version ? (current.builtAt ?? '') : '' };
    const policy = await applyPolicy(remote.remoteResult(reference, final, findings, db), {
      ...(opts.severity ? { severity: opts.severity } : {}),
      ...(opts.exitCode !== undefined ? { exitCode: opts.exitCode } : {}),
      ...(opts.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
      ...(opts.ignorefile ? { ignorefile: opts.ignorefile } : {}),
      ...(opts.vex ? { vex: opts.vex } : {}),
    });
    for (const n of policy.notes) note(n);
    const text = await renderReport(policy.result, opts.format, {
      color:
        opts.format === 'table' && !opts.output && process.stdout.isTTY === true && !process.env.NO_COLOR,
      ...(opts.sort ? { sort: opts.sort } : {}),
    });
    await writeOutput(text, opts.output);
    if (policy.exitCode !== 0) process.exitCode = policy.exitCode;
  } catch (e) {
    if (controller.signal.aborted) throw new EngineError('ENG_ABORTED', 'interrupted', { cause: e });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

export function remoteScanCommand(): Command {
  const base = new Command('remote-scan')
    .description('ask a Vigil fleet to scan a pushed image and gate on its findings (docs/ci.md)')
    .argument('<ref>', 'image reference the fleet can pull (registry/repo:tag or repo@sha256:…)')
    .option('--server <url>', 'Vigil control plane (or VIGIL_SERVER)')
    .option('--token <token>', 'API token with the `ci` scope (or VIGIL_TOKEN)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('-q, --quiet', 'no notes on stderr');
  return addGateOptions(base)
    .addOption(
      new Option('--timeout <duration>', 'give up waiting after this long (exit 12)')
        .argParser(parseDuration)
        .default(10 * 60_000, '10m'),
    )
    .option('--force', 'scan again even if the fleet has an active scan of the same digest and database')
    .action(async (ref: string, opts: RemoteScanOpts) => remoteScan(ref, opts));
}
