import { describe, expect, it } from 'vitest';
import { parseAckSubject } from './pull.js';

describe('parseAckSubject', () => {
  it.each([
    [
      'classic_nine_tokens',
      '$JS.ACK.VIGIL_SCANS.jobs-ci.3.42.57.1795777888923024584.0',
      { stream: 'VIGIL_SCANS', consumer: 'jobs-ci', deliveryCount: 3, streamSeq: 42 },
    ],
    [
      'with_domain_and_account_hash',
      '$JS.ACK.hub.ACCHASH.VIGIL_SCANS.jobs-manual.1.7.7.1795777888923024584.0.r4nd0m',
      { stream: 'VIGIL_SCANS', consumer: 'jobs-manual', deliveryCount: 1, streamSeq: 7 },
    ],
    ['not_an_ack_subject', '_INBOX.abc.def', null],
    ['too_short', '$JS.ACK.S.C.1', null],
    ['delivery_count_not_a_number', '$JS.ACK.S.C.x.1.1.1.0', null],
  ])('%s', (_name, subject, expected) => {
    expect(parseAckSubject(subject)).toEqual(expected);
  });
});
