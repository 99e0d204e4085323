import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors.js';
import { ANALYZERS, selectAnalyzers } from './index.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** folder of an analyzer by its name: `os/apk` → os/apk, `lang/npm-lock` → lang/npm, `release/os` → os/release */
const FOLDERS: Record<string, string> = {
  'release/os': 'os/release',
  'os/dpkg-files': 'os/dpkg',
  'lang/npm-lock': 'lang/npm',
  'lang/python-lock': 'lang/python',
  'lang/gemspec': 'lang/ruby',
  'lang/gemfile-lock': 'lang/ruby',
  'lang/composer-installed': 'lang/php',
  'lang/composer-lock': 'lang/php',
  'lang/cargo-lock': 'lang/rust',
  'lang/dotnet-deps': 'lang/dotnet',
  'lang/nuget-lock': 'lang/dotnet',
};

describe('analyzer list', () => {
  it('has unique names, integer versions and a testdata folder per plugin', () => {
    const names = ANALYZERS.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    expect(ANALYZERS.filter((a) => !Number.isInteger(a.version) || a.version < 0).map((a) => a.name)).toEqual(
      [],
    );
    const missing = ANALYZERS.map((a) => FOLDERS[a.name] ?? a.name).filter(
      (f) => !existsSync(join(HERE, f, 'testdata')),
    );
    expect(missing).toEqual([]);
  });

  it('selects by scan mode: images read installed packages, directory scans add lock files', () => {
    const names = (mode: 'image' | 'fs') => selectAnalyzers(mode).map((a) => a.name);
    expect(names('image').filter((n) => n.endsWith('-lock'))).toEqual([]);
    expect(
      names('fs')
        .filter((n) => n.endsWith('-lock'))
        .sort(),
    ).toEqual([
      'lang/cargo-lock',
      'lang/composer-lock',
      'lang/gemfile-lock',
      'lang/npm-lock',
      'lang/nuget-lock',
      'lang/python-lock',
    ]);
    expect(names('image')).toContain('os/rpm');
  });

  it('applies selectors and rejects unknown ones with the valid names', () => {
    expect(selectAnalyzers('image', ['os']).map((a) => a.name)).toEqual([
      'release/os',
      'os/apk',
      'os/dpkg',
      'os/dpkg-files',
      'os/rpm',
    ]);
    expect(selectAnalyzers('image', ['-lang', '-os/rpm']).map((a) => a.name)).toEqual([
      'release/os',
      'os/apk',
      'os/dpkg',
      'os/dpkg-files',
    ]);
    expect(selectAnalyzers('image', ['+lang/npm-lock']).map((a) => a.name)).toContain('lang/npm-lock');
    let err: unknown;
    try {
      selectAnalyzers('image', ['-lang/cobol']);
    } catch (e) {
      err = e;
    }
    expect(isEngineError(err) && err.code).toBe('ENG_INVALID_ARGUMENT');
    expect(String(err)).toMatch(/unknown analyzer or tag "lang\/cobol"; analyzers: release\/os, os\/apk/);
  });
});
