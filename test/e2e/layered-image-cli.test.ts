/**
 * Scenario 1 through the CLI: `vigil image --input` on the umoci-built layered image (see
 * engine/test/fixtures/layered-image.ts) prints, as JSON, the same inventory as the golden the
 * engine test checks, for a docker-archive, an OCI layout directory and an OCI archive.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERED_IMAGE } from '../../engine/test/fixtures/layered-image.js';
import { layerIndexer, normalPackage, type NormalInventory } from '../../engine/test/support/inventory.js';
import { openLocalImage } from '../../engine/src/image/archive/index.js';
import { buildOciLayout, removeTemp, toDockerArchive, toOciArchive } from '../harness/images.js';
import { runVigil } from '../support/cli.js';
import type { ReportPackage, VigilReport } from '../../engine/src/report/types.js';

const golden = JSON.parse(
  await readFile(new URL('../../engine/test/golden/layered-image.json', import.meta.url), 'utf8'),
) as NormalInventory;

describe('vigil image --input on the layered umoci image', () => {
  let layout = '';
  const inputs: Record<string, string> = {};
  let diffIds: string[] = [];

  beforeAll(async () => {
    layout = await buildOciLayout(LAYERED_IMAGE);
    inputs['docker-archive'] = await toDockerArchive(layout, 'vigil-test/layered:1');
    inputs['oci-layout dir'] = layout;
    inputs['oci-archive tar'] = await toOciArchive(layout);
    const source = await openLocalImage(layout);
    diffIds = source.config!.rootfs.diff_ids;
    await source.close();
  });
  afterAll(() => removeTemp(layout));

  it('prints the golden inventory as JSON and exits 0 for each form', async () => {
    const layerOf = layerIndexer(diffIds);
    const seen: Record<string, unknown> = {};
    for (const [form, input] of Object.entries(inputs)) {
      const run = await runVigil(['image', '--input', input, '--format', 'json', '--no-cache', '--quiet']);
      const report = JSON.parse(run.stdout) as VigilReport & { status: string };
      seen[form] = {
        code: run.code,
        stderr: run.stderr,
        os: report.artifact.os,
        packages: report.packages.map((p: ReportPackage) => normalPackage(p, layerOf)),
        unknowns: report.unknowns,
        status: report.status,
        vulnerabilities: report.vulnerabilities,
      };
    }
    const expected = {
      code: 0,
      stderr: '',
      os: golden.os,
      packages: golden.packages,
      unknowns: [],
      status: 'succeeded',
      vulnerabilities: [],
    };
    expect(seen).toEqual({
      'docker-archive': expected,
      'oci-layout dir': expected,
      'oci-archive tar': expected,
    });
  });
});
