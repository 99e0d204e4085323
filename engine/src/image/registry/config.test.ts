import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import { parseImageConfig } from './config.js';

describe.skipIf(!hasRealdata)('parseImageConfig', () => {
  const real = readFileSync(realdata('images/configs/stereoscope-docker-engine-image-config.json'));

  it('keeps a real docker engine config as it is (7 diff_ids)', () => {
    const config = parseImageConfig(real, 'config');
    expect(config).toEqual(JSON.parse(real.toString('utf8')));
    expect([config.architecture, config.rootfs.diff_ids.length, config.rootfs.diff_ids[0]]).toEqual([
      'amd64',
      7,
      'sha256:226bfaae015f1d5712cfced3b5b628206618eaacf72f4a44d0e4084071996319',
    ]);
  });

  it('refuses configs without usable diff_ids', () => {
    const messages = ['{', '[]', '{"rootfs":{}}', '{"rootfs":{"diff_ids":["sha256:xyz"]}}'].map((text) => {
      try {
        parseImageConfig(Buffer.from(text), 'config c');
        return 'parsed';
      } catch (error) {
        return isEngineError(error) ? `${error.code}: ${error.message}` : String(error);
      }
    });
    expect(messages).toEqual([
      'ENG_IMAGE_CONFIG_INVALID: config c: not valid JSON',
      'ENG_IMAGE_CONFIG_INVALID: config c: not a JSON object',
      'ENG_IMAGE_CONFIG_INVALID: config c: rootfs.diff_ids is missing',
      'ENG_IMAGE_CONFIG_INVALID: config c: rootfs.diff_ids holds "sha256:xyz", not a digest',
    ]);
  });

  it('fuzz: only ENG_IMAGE_CONFIG_INVALID on mutated real configs', async () => {
    const failures = await fuzz([real], 10_000, (input) => parseImageConfig(input, 'config'), {
      allowed: (e) => isEngineError(e) && e.code === 'ENG_IMAGE_CONFIG_INVALID',
    });
    expect(failures).toEqual([]);
  });
});
