/**
 * `vigil image`, `vigil fs`, `vigil rootfs`: scan and print the inventory.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import {
  EngineError,
  FsLayerCache,
  parsePlatform,
  renderInventory,
  scanImage,
  type ScanImageOptions,
  type ScanResult,
  type ScanTarget,
} from '@vigil/engine';
import { progressReporter } from '../output/progress.js';
import { renderTable } from '../output/table.js';
import { writeOutput } from '../output/write.js';
import { collectList, parseDuration, parseSize } from '../options.js';

export const FORMATS = ['table', 'json', 'cyclonedx', 'spdx'] as const;
type Format = (typeof FORMATS)[number];

interface CommonOpts {
  format: Format;
  output?: string;
  quiet?: boolean;
  cache: boolean;
  cacheDir?: string;
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

export function defaultCacheDir(): string {
  return (
    process.env.VIGIL_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vigil')
  );
}

function addCommon(cmd: Command): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('-q, --quiet', 'no progress output')
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

async function run(target: ScanTarget, opts: ImageOpts): Promise<void> {
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
    if (host.includes('.') || host.includes(':') || host === 'localhost')
      registry.insecureRegistries = [...(registry.insecureRegistries ?? []), host];
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
  const text =
    opts.format === 'table'
      ? renderTable(scan, !opts.output && process.stdout.isTTY === true)
      : await renderInventory(scan, opts.format);
  await writeOutput(text, opts.output);
}

export function imageCommand(): Command {
  return addCommon(
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
  return addCommon(
    new Command('fs')
      .description('scan a project directory or root filesystem: installed packages and lock files')
      .argument('<dir>', 'directory'),
  ).action(async (dir: string, opts: CommonOpts) => run({ dir, mode: 'fs' }, opts));
}

export function rootfsCommand(): Command {
  return addCommon(
    new Command('rootfs')
      .description('scan an unpacked root filesystem: installed packages only')
      .argument('<dir>', 'directory'),
  ).action(async (dir: string, opts: CommonOpts) => run({ dir, mode: 'rootfs' }, opts));
}
