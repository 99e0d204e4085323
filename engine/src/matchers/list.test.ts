import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MATCHERS } from './list.js';

describe('MATCHERS', () => {
  it('has unique path-like names, integer versions, and its test data folder', () => {
    expect({
      names: MATCHERS.map((m) => m.name),
      versionsOk: MATCHERS.every((m) => Number.isInteger(m.version) && m.version >= 0),
      testdata: existsSync(new URL('./testdata/', import.meta.url)),
    }).toEqual({
      names: [
        'os/apk',
        'os/dpkg',
        'os/rpm',
        'lang/npm',
        'lang/pypi',
        'lang/golang',
        'lang/maven',
        'lang/gem',
        'lang/cargo',
        'lang/composer',
        'lang/nuget',
      ],
      versionsOk: true,
      testdata: true,
    });
    expect(new Set(MATCHERS.map((m) => m.name)).size).toBe(MATCHERS.length);
  });
});
