import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ScanPriority } from '@vigil/proto/v1/scan_pb';
import { CancelSignalSchema, ScanJobSchema } from '@vigil/proto/v1/worker_pb';
import { describe, expect, it } from 'vitest';
import { decodeCancel, decodeScanJob } from './wire.js';

const QUEUED_AT = new Date('2026-01-02T03:04:05.000Z');
const job = {
  scanId: 's1',
  orgId: 'o1',
  imageId: 'i1',
  imageRef: 'registry.example/app@sha256:ab',
  digest: 'sha256:ab',
  dbVersion: 'db-1',
  priority: ScanPriority.MANUAL,
  queuedAt: timestampFromDate(QUEUED_AT),
  attemptBase: 3,
};
const encode = (fields: Partial<typeof job>) =>
  toBinary(ScanJobSchema, create(ScanJobSchema, { ...job, ...fields }));

describe('decodeScanJob', () => {
  it.each([
    ['not_protobuf', new TextEncoder().encode('{"scanId":"s1"}')],
    ['empty', new Uint8Array(0)],
    ['no_scan_id', encode({ scanId: '' })],
    ['no_image_ref', encode({ imageRef: '' })],
    ['no_queued_at', encode({ queuedAt: undefined })],
  ])('rejects_%s', (_name, bytes) => {
    expect(decodeScanJob(bytes, 'ci')).toBeNull();
  });

  it('takes_the_priority_of_the_consumer_it_came_from', () => {
    expect(decodeScanJob(encode({}), 'scheduled')).toEqual({
      scanId: 's1',
      orgId: 'o1',
      imageId: 'i1',
      imageRef: 'registry.example/app@sha256:ab',
      digest: 'sha256:ab',
      dbVersion: 'db-1',
      priority: 'scheduled',
      queuedAt: QUEUED_AT,
      attemptBase: 3,
    });
  });
});

describe('decodeCancel', () => {
  it('decodes_a_signal_and_rejects_one_without_a_scan', () => {
    const signal = (scanId: string) =>
      toBinary(CancelSignalSchema, create(CancelSignalSchema, { scanId, orgId: 'o1', reason: 'user' }));
    expect([
      decodeCancel(signal('s9')),
      decodeCancel(signal('')),
      decodeCancel(new Uint8Array([0xff, 0xff])),
    ]).toEqual([{ scanId: 's9', orgId: 'o1', reason: 'user' }, null, null]);
  });
});
