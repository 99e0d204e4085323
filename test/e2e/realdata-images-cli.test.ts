/**
 * Scenario: `vigil image --input` on the realdata images without any OS or package (hello-world
 * as OCI layout and Docker 25 save, the Docker 1.13 almost-empty image): exit 0, a JSON report
 * without os, packages or unknowns, status succeeded. (engine/test/realdata-images.test.ts
 * checks the same through the library, with the alpine 3.11 image.)
 */
import { describe, expect, it } from 'vitest';
import { runVigil } from '../support/cli.js';
import { hasRealdata, realdata } from '../support/realdata.js';

describe.skipIf(!hasRealdata)('vigil image --input on images without packages', () => {
  it.each([
    ['images/oci-layout/trivy-hello-world-oci', 'oci-layout'],
    // a Docker 25 save is an OCI layout and a docker-archive at once; manifest.json is read first
    ['images/oci-archive/ggcr-hello-world-docker-v25-save.tar', 'docker-archive'],
    ['images/docker-archive/cimage-almostempty-docker-save.tar', 'docker-archive'],
  ])('%s', async (rel, kind) => {
    const run = await runVigil(['image', '--input', realdata(rel), '-f', 'json', '--no-cache', '-q']);
    const report = JSON.parse(run.stdout) as {
      artifact: { os?: unknown; kind: string };
      packages: unknown[];
      unknowns: unknown[];
      status: string;
    };
    expect({
      code: run.code,
      stderr: run.stderr,
      os: report.artifact.os,
      kind: report.artifact.kind,
      packages: report.packages,
      unknowns: report.unknowns,
      status: report.status,
    }).toEqual({ code: 0, stderr: '', os: undefined, kind, packages: [], unknowns: [], status: 'succeeded' });
  });
});
