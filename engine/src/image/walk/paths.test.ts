import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeEntryPath, resolveInRoot } from './paths.js';

/** The rule without the fast path (the slow path of paths.ts, kept here as the oracle). */
function referenceNormalize(name: string): string | undefined {
  if (name.includes('\0')) return undefined;
  const rel = posix.normalize(name.replace(/^\/+/, '').replace(/\\/g, '/'));
  if (rel === '..' || rel.startsWith('../')) return undefined;
  const out = posix
    .normalize('/' + name.replace(/\\/g, '/'))
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
  return out === '' || out === '.' ? undefined : out;
}

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
    // fast path (already clean) and the cases just outside it
    ['usr/bin/x', 'usr/bin/x'],
    ['etc/', 'etc'],
    ['.hidden/.wh.x', '.hidden/.wh.x'],
    ['a/..b/c.', 'a/..b/c.'],
    ['a//', 'a'],
    ['a/.', 'a'],
    ['a/..', undefined],
    ['..', undefined],
    ['/', undefined],
    ['a\\..\\..\\x', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEntryPath(input)).toBe(expected);
  });

  it('agrees with the reference rule on random names built from separators, dots and NUL', () => {
    const parts = ['a', 'b', '.', '..', '/', '//', '\\', '\0', 'é'];
    let seed = 1;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const names = Array.from({ length: 20_000 }, () =>
      Array.from({ length: Math.floor(next() * 8) }, () => parts[Math.floor(next() * parts.length)]).join(''),
    );
    const disagree = names.filter((n) => normalizeEntryPath(n) !== referenceNormalize(n));
    expect(disagree).toEqual([]);
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
