import { describe, expect, it } from 'vitest';
import { normalizeEntryPath, resolveInRoot } from './paths.js';

describe('normalizeEntryPath', () => {
  it.each([
    ['./usr/bin/x', 'usr/bin/x'],
    ['/etc/passwd', 'etc/passwd'],
    ['a/./b/', 'a/b'],
    ['a//b', 'a/b'],
    ['a/../b', 'b'],
    ['../x', undefined],
    ['a/../../x', undefined],
    ['./', undefined],
    ['', undefined],
    ['a\0b', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEntryPath(input)).toBe(expected);
  });
});

describe('resolveInRoot', () => {
  const links = new Map([
    ['etc/os-release', '../usr/lib/os-release'],
    ['lib', 'usr/lib'],
    ['escape', '../../../../etc/shadow'],
    ['abs', '/usr/lib'],
    ['loop1', 'loop2'],
    ['loop2', 'loop1'],
  ]);
  it.each([
    ['etc/os-release', 'usr/lib/os-release'],
    ['lib/apk/db/installed', 'usr/lib/apk/db/installed'],
    ['escape', 'etc/shadow'],
    ['abs/x', 'usr/lib/x'],
    ['plain/file', 'plain/file'],
    ['loop1', undefined],
  ])('%s → %s', (input, expected) => {
    expect(resolveInRoot(input, links)).toBe(expected);
  });
});
