import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/realdata.js';
import { checkGenerated } from '../scripts/check-generated.mjs';
import { AdminService } from '../gen/vigil/v1/admin_pb.js';
import { ImageService } from '../gen/vigil/v1/image_pb.js';
import { ScanService } from '../gen/vigil/v1/scan_pb.js';
import { VulnerabilityService } from '../gen/vigil/v1/vulnerability_pb.js';
import { ReportRequestSchema, WorkerService } from '../gen/vigil/v1/worker_pb.js';

const BUF = path.join(REPO_ROOT, 'node_modules/.bin/buf');

describe('protos', () => {
  it('pass buf lint (STANDARD) without output', () => {
    // buf lint needs no network: the well-known types are built into buf
    expect(execFileSync(BUF, ['lint'], { cwd: REPO_ROOT, encoding: 'utf8' })).toBe('');
  });

  it('declare the public and worker services with their streaming kinds', () => {
    const shape = [AdminService, ImageService, ScanService, VulnerabilityService, WorkerService].map((s) => [
      s.typeName,
      s.methods.map((m) => `${m.name} ${m.methodKind}`),
    ]);
    // as written in proto/vigil/v1/*.proto
    expect(shape).toEqual([
      ['vigil.v1.AdminService', ['GetDbVersion unary']],
      [
        'vigil.v1.ImageService',
        ['ListImages unary', 'GetImage unary', 'ListImageFindings unary', 'GetSummary unary'],
      ],
      [
        'vigil.v1.ScanService',
        [
          'CreateScan unary',
          'GetScan unary',
          'CancelScan unary',
          'BulkScan unary',
          'GetBatch unary',
          'CancelBatch unary',
          'WatchScan server_streaming',
          'GetScanDiff unary',
        ],
      ],
      ['vigil.v1.VulnerabilityService', ['ListVulnerabilityImages unary']],
      [
        'vigil.v1.WorkerService',
        ['ClaimJob unary', 'Report client_streaming', 'ClaimRematch unary', 'ReportRematch unary'],
      ],
    ]);
  });

  it('make the worker report a oneof of the seven events', () => {
    const oneof = ReportRequestSchema.oneofs[0]!;
    expect([oneof.name, oneof.fields.map((f) => `${f.number} ${f.name}`)]).toEqual([
      'event',
      ['3 started', '4 progress', '5 inventory', '6 findings', '7 completed', '8 failed', '9 cancelled'],
    ]);
  });
});

describe('proto/gen freshness check', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'vigil-proto-check-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('finds the committed proto/gen up to date', async () => {
    expect(await checkGenerated(REPO_ROOT)).toEqual([]);
  });

  it('names stale, missing and extra files', async () => {
    // a copy of the inputs with a doctored proto/gen: one file edited, one removed, one added
    for (const f of ['buf.yaml', 'buf.gen.yaml', '.prettierrc.json', 'proto/vigil', 'proto/gen']) {
      cpSync(path.join(REPO_ROOT, f), path.join(scratch, f), { recursive: true });
    }
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(scratch, 'node_modules'));
    const gen = path.join(scratch, 'proto/gen/vigil/v1');
    writeFileSync(path.join(gen, 'admin_pb.ts'), '// edited by hand\n', { flag: 'a' });
    unlinkSync(path.join(gen, 'image_pb.ts'));
    writeFileSync(path.join(gen, 'notes.ts'), 'export {};\n');
    expect(await checkGenerated(scratch)).toEqual([
      { file: 'vigil/v1/admin_pb.ts', problem: 'stale' },
      { file: 'vigil/v1/image_pb.ts', problem: 'missing' },
      { file: 'vigil/v1/notes.ts', problem: 'extra' },
    ]);
  });
});
