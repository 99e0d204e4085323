/**
 * The acceptance check: `vigil image --input <alpine 3.10 docker-archive> --format json` lists exactly the
 * packages of the image's /lib/apk/db/installed. The expectation is read from the image with the system `tar`
 * and a plain line parse here, independent of Vigil's analyzers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVigil, VIGIL_BIN } from '../support/cli.js';
import { hasRealdata, realdata } from '../support/realdata.js';

interface Expected {
  name: string;
  version: string;
  srcName: string;
}

async function installedFromImage(
  archive: string,
  work: string,
): Promise<{ packages: Expected[]; alpineRelease: string }> {
  execFileSync('tar', ['-xzf', archive, '-C', work]);
  const manifest = JSON.parse(await readFile(join(work, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  const packages: Expected[] = [];
  let alpineRelease = '';
  for (const layer of manifest[0]!.Layers) {
    const dir = await mkdtemp(join(work, 'layer-'));
    execFileSync('tar', ['-xf', join(work, layer), '-C', dir]);
    const files = await readdir(join(dir, 'lib/apk/db')).catch(() => []);
    if (files.includes('installed')) {
      packages.length = 0;
      for (const stanza of (await readFile(join(dir, 'lib/apk/db/installed'), 'utf8')).split('\n\n')) {
        const field = (k: string) =>
          stanza
            .split('\n')
            .find((l) => l.startsWith(`${k}:`))
            ?.slice(2);
        const name = field('P');
        if (!name) continue;
        packages.push({ name, version: field('V')!, srcName: field('o') ?? name });
      }
    }
    alpineRelease = (
      await readFile(join(dir, 'etc/alpine-release'), 'utf8').catch(() => alpineRelease)
    ).trim();
  }
  return { packages: packages.sort((a, b) => a.name.localeCompare(b.name)), alpineRelease };
}

describe.skipIf(!hasRealdata)('vigil image --input alpine 3.10 docker-archive', () => {
  const archive = realdata('images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz');
  let work = '';
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vigil-alpine-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('lists exactly the packages of /lib/apk/db/installed, with origins, and os alpine 3.10.x', async () => {
    const expected = await installedFromImage(archive, work);
    expect(expected.packages.length).toBeGreaterThan(10);
    const run = await runVigil(['image', '--input', archive, '--format', 'json', '--no-cache', '--skip-db']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(run.stdout) as {
      artifact: { os: { family: string; version: string } };
      packages: { name: string; version: string; ecosystem: string; srcName: string; purl: string }[];
      unknowns: unknown[];
    };
    expect({
      os: report.artifact.os,
      packages: report.packages.map((p) => ({ name: p.name, version: p.version, srcName: p.srcName })),
      ecosystems: [...new Set(report.packages.map((p) => p.ecosystem))],
      unknowns: report.unknowns,
    }).toEqual({
      os: { family: 'alpine', version: expected.alpineRelease },
      packages: expected.packages,
      ecosystems: ['apk'],
      unknowns: [],
    });
    expect(expected.alpineRelease).toMatch(/^3\.10\.\d+$/);
    // purl-spec apk type: namespace alpine, arch and distro qualifiers; `upstream` names the origin when it differs
    expect(report.packages.map((p) => p.purl)).toEqual(
      expected.packages.map(
        (p) =>
          `pkg:apk/alpine/${p.name}@${p.version}?arch=x86_64&distro=alpine-${expected.alpineRelease}` +
          (p.srcName !== p.name ? `&upstream=${p.srcName}` : ''),
      ),
    );
  });

  it('keeps its exit code and says nothing when the reader of its output has gone (`vigil … | head -c 0`)', async () => {
    const child = spawn(
      process.execPath,
      [VIGIL_BIN, 'image', '--input', archive, '-f', 'json', '--no-cache', '--skip-db'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.destroy(); // the read end closes before anything is written: every write is EPIPE
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('gives the same inventory from the layer cache on a second run', async () => {
    const cacheDir = join(work, 'cache');
    const first = await runVigil(['image', '--input', archive, '-f', 'json', '--cache-dir', cacheDir]);
    const second = await runVigil(['image', '--input', archive, '-f', 'json', '--cache-dir', cacheDir]);
    const pkgs = (s: string) => (JSON.parse(s) as { packages: unknown[] }).packages;
    expect(pkgs(second.stdout)).toEqual(pkgs(first.stdout));
    // one entry for the single layer, one for the stack's merged inventory
    const entries = (await readdir(cacheDir)).filter((n) => /^[a-f0-9]{64}\./.test(n));
    expect(entries.map((n) => n.replace(/^[a-f0-9]{64}/, '<key>')).sort()).toEqual([
      '<key>.stack.v2.json',
      '<key>.v2.json',
    ]);
  });
});

describe('vigil exit codes', () => {
  it.each([
    [['image', '--input', '/nonexistent/image.tar'], 4, /ENG_IMAGE_SOURCE_NOT_FOUND/],
    [['image', '--bogus-flag'], 2, /unknown option/],
    [['image'], 2, /ENG_INVALID_ARGUMENT: give an image reference or --input PATH/],
    [['image', '::bad::'], 2, /ENG_IMAGE_REF_INVALID/],
  ])('%j exits %i', async (args, code, stderr) => {
    const run = await runVigil(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(stderr);
  });
});
