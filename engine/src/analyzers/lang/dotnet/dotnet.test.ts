import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { Analyzer } from '../../types.js';
import { inputFromBuffer } from '../../types.js';
import { dotnetDepsAnalyzer, nugetLockAnalyzer } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const INFO = { size: 1, mode: 0o644 };
const shipped = (pairs: [string, string][]) =>
  pairs.map(([name, version]) => ({ name, version, ecosystem: 'nuget', foundBy: 'lang/dotnet-deps' }));
const locked = (pairs: [string, string, object?][]) =>
  pairs.map(([name, version, extra]) => ({
    name,
    version,
    ecosystem: 'nuget',
    foundBy: 'lang/nuget-lock',
    declared: true,
    ...extra,
  }));
const run = (analyzer: Analyzer, file: string, path: string) =>
  analyzer.analyze(inputFromBuffer(path, readFileSync(file)));

describe('required', () => {
  it.each([
    ['app/WebApi.deps.json', true, false],
    ['usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json', true, false],
    ['app/WebApi.runtimeconfig.json', false, false],
    ['app/WebApi.deps.json.bak', false, false],
    ['src/App/packages.lock.json', false, true],
    ['packages.lock.json', false, true],
    ['src/App/packages.config', false, true],
    ['src/App/obj/project.assets.json', false, false],
    ['src/App/my-packages.lock.json', false, false],
    ['src/App/App.csproj', false, false],
  ])('%s → deps %s, lock %s', (path, wantDeps, wantLock) => {
    expect([dotnetDepsAnalyzer.required(path, INFO), nugetLockAnalyzer.required(path, INFO)]).toEqual([
      wantDeps,
      wantLock,
    ]);
  });
});

describe('dotnetDepsAnalyzer.analyze', () => {
  it('own fixture (BOM; project, runtimepack and a key without a version are not packages)', async () => {
    expect(
      await run(dotnetDepsAnalyzer, join(TESTDATA, 'app/WebApi.deps.json'), 'app/WebApi.deps.json'),
    ).toEqual({
      packages: shipped([
        ['Microsoft.Data.SqlClient', '5.1.1'],
        ['System.Text.Json', '4.7.0'],
      ]),
      unknowns: [
        {
          path: 'app/WebApi.deps.json',
          source: 'lang/dotnet-deps',
          message: 'deps.json: 1 entry without a valid name and version skipped',
        },
      ],
    });
  });

  it.each([
    ['{"targets": {}}', 'deps.json: no "libraries" object'],
    ['[]', 'deps.json: no "libraries" object'],
  ])('turns %s into an unknown', async (text, message) => {
    expect(await dotnetDepsAnalyzer.analyze(inputFromBuffer('a.deps.json', Buffer.from(text)))).toEqual({
      unknowns: [{ path: 'a.deps.json', source: 'lang/dotnet-deps', message }],
    });
  });
});

describe.skipIf(!hasRealdata)('dotnetDepsAnalyzer.analyze (realdata)', () => {
  it('pkgdb/dotnet/syft-TestLibrary.deps.json (TestLibrary and TestCommon are projects)', async () => {
    expect(
      await run(
        dotnetDepsAnalyzer,
        realdata('pkgdb/dotnet/syft-TestLibrary.deps.json'),
        'TestLibrary.deps.json',
      ),
    ).toEqual({
      packages: shipped([
        ['AWSSDK.Core', '3.7.10.6'],
        ['Microsoft.Extensions.DependencyInjection', '6.0.0'],
        ['Microsoft.Extensions.DependencyInjection.Abstractions', '6.0.0'],
        ['Microsoft.Extensions.Logging', '6.0.0'],
        ['Microsoft.Extensions.Logging.Abstractions', '6.0.0'],
        ['Microsoft.Extensions.Options', '6.0.0'],
        ['Microsoft.Extensions.Primitives', '6.0.0'],
        ['Newtonsoft.Json', '13.0.1'],
        ['Serilog', '2.10.0'],
        ['Serilog.Sinks.Console', '4.0.1'],
        ['System.Diagnostics.DiagnosticSource', '6.0.0'],
        ['System.Runtime.CompilerServices.Unsafe', '6.0.0'],
      ]),
    });
  });

  it('pkgdb/dotnet/syft-MyApp-referenceassembly.deps.json (reference assemblies are not packages)', async () => {
    expect(
      await run(
        dotnetDepsAnalyzer,
        realdata('pkgdb/dotnet/syft-MyApp-referenceassembly.deps.json'),
        'MyApp.deps.json',
      ),
    ).toEqual({ packages: shipped([['Newtonsoft.Json', '13.0.3']]) });
  });
});

describe('nugetLockAnalyzer.analyze', () => {
  it('packages.lock.json (own fixture): all frameworks, deduplicated, Project excluded, CentralTransitive kept', async () => {
    expect(
      await run(
        nugetLockAnalyzer,
        join(TESTDATA, 'project/packages.lock.json'),
        'project/packages.lock.json',
      ),
    ).toEqual({
      packages: locked([
        ['Serilog', '3.0.1'],
        ['System.Text.Encodings.Web', '4.7.2'], // net6.0, CentralTransitive
        ['System.Text.Encodings.Web', '8.0.0'], // net8.0
      ]),
    });
  });

  it('packages.config (own fixture): BOM, comments, single quotes, multi-line tags, entities, dev dependency', async () => {
    expect(
      await run(nugetLockAnalyzer, join(TESTDATA, 'legacy/packages.config'), 'legacy/packages.config'),
    ).toEqual({
      packages: locked([
        ['EntityFramework', '6.4.4'],
        ['jQuery', '3.4.1'],
        ['Newtonsoft.Json', '12.0.3'],
        ['StyleCop.Analyzers', '1.1.118', { dev: true }],
        ['Dots&Ampersand', '1.0.0'],
      ]),
      unknowns: [
        {
          path: 'legacy/packages.config',
          source: 'lang/nuget-lock',
          message: 'packages.config: 1 entry without a valid name and version skipped',
        },
      ],
    });
  });

  it('reads a UTF-16 packages.config', async () => {
    const text =
      '<?xml version="1.0" encoding="utf-16"?><packages><package id="A" version="1.0.0" /></packages>';
    const buf = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(await nugetLockAnalyzer.analyze(inputFromBuffer('packages.config', buf))).toEqual({
      packages: locked([['A', '1.0.0']]),
    });
  });

  it.each([
    ['packages.config', '<configuration />', 'packages.config: no <packages> element'],
    ['packages.lock.json', '{"version": 1}', 'packages.lock.json: no "dependencies" object'],
  ])('turns a %s without packages into an unknown', async (path, text, message) => {
    expect(await nugetLockAnalyzer.analyze(inputFromBuffer(path, Buffer.from(text)))).toEqual({
      unknowns: [{ path, source: 'lang/nuget-lock', message }],
    });
  });
});

describe.skipIf(!hasRealdata)('nugetLockAnalyzer.analyze (realdata)', () => {
  it('pkgdb/dotnet/syft-packages.lock.json (net8.0 + .netcore2.0; bootstrap 5.0.0 once)', async () => {
    expect(
      await run(nugetLockAnalyzer, realdata('pkgdb/dotnet/syft-packages.lock.json'), 'packages.lock.json'),
    ).toEqual({
      packages: locked([
        ['AutoMapper', '13.0.1'],
        ['bootstrap', '5.0.0'],
        ['log4net', '2.0.5'],
        ['Microsoft.Extensions.DependencyInjection.Abstractions', '9.0.0'],
        ['Microsoft.Extensions.Logging', '9.0.0'],
        ['Microsoft.Extensions.Options', '9.0.0'],
        ['Microsoft.Extensions.Primitives', '9.0.0'],
        ['System.Runtime.CompilerServices.Unsafe', '9.0.0'],
        ['log4net', '1.2.15'],
      ]),
    });
  });

  it('pkgdb/dotnet/syft-net8-packages.lock.json (empty net8.0/win-x64 framework)', async () => {
    const cultures = [
      'af',
      'ar',
      'az',
      'bg',
      'bn-BD',
      'cs',
      'da',
      'de',
      'el',
      'es',
      'fa',
      'fi-FI',
      'fr',
      'fr-BE',
      'he',
      'hr',
      'hu',
      'hy',
      'id',
      'is',
      'it',
      'ja',
      'ko-KR',
      'ku',
      'lv',
      'ms-MY',
      'mt',
      'nb',
      'nb-NO',
      'nl',
      'pl',
      'pt',
      'ro',
      'ru',
      'sk',
      'sl',
      'sr',
      'sr-Latn',
      'sv',
      'th-TH',
      'tr',
      'uk',
      'uz-Cyrl-UZ',
      'uz-Latn-UZ',
      'vi',
      'zh-CN',
      'zh-Hans',
      'zh-Hant',
    ];
    expect(
      await run(
        nugetLockAnalyzer,
        realdata('pkgdb/dotnet/syft-net8-packages.lock.json'),
        'packages.lock.json',
      ),
    ).toEqual({
      packages: locked([
        ['Humanizer', '2.14.1'],
        ['Newtonsoft.Json', '13.0.3'],
        ['Humanizer.Core', '2.14.1'],
        ...cultures.map((c): [string, string] => [`Humanizer.Core.${c}`, '2.14.1']),
      ]),
    });
  });

  it('pkgdb/dotnet/scalibr-packages.config', async () => {
    expect(
      await run(nugetLockAnalyzer, realdata('pkgdb/dotnet/scalibr-packages.config'), 'packages.config'),
    ).toEqual({
      packages: locked([
        ['Microsoft.CodeDom.Providers.DotNetCompilerPlatform', '1.0.0'],
        ['Microsoft.Net.Compilers', '1.0.0', { dev: true }],
      ]),
    });
  });
});

describe('fuzz', () => {
  const seedsOf = (own: string[], real: string[]) => [
    ...own.map((rel) => readFileSync(join(TESTDATA, rel))),
    ...(hasRealdata ? real.map((rel) => readFileSync(realdata(rel))) : []),
  ];

  it.each([
    [
      'dotnetDepsAnalyzer',
      dotnetDepsAnalyzer,
      'app/WebApi.deps.json',
      seedsOf(
        ['app/WebApi.deps.json'],
        ['pkgdb/dotnet/syft-TestLibrary.deps.json', 'pkgdb/dotnet/syft-MyApp-referenceassembly.deps.json'],
      ),
    ],
    [
      'nugetLockAnalyzer packages.lock.json',
      nugetLockAnalyzer,
      'packages.lock.json',
      seedsOf(
        ['project/packages.lock.json'],
        ['pkgdb/dotnet/syft-packages.lock.json', 'pkgdb/dotnet/syft-net8-packages.lock.json'],
      ),
    ],
    [
      'nugetLockAnalyzer packages.config',
      nugetLockAnalyzer,
      'packages.config',
      seedsOf(['legacy/packages.config'], ['pkgdb/dotnet/scalibr-packages.config']),
    ],
  ])('%s never rejects on mutated inputs (10,000 inputs)', async (_name, analyzer, path, seeds) => {
    const failures = await fuzz(seeds, 10_000, async (buf) => {
      const result = await analyzer.analyze(inputFromBuffer(path, buf));
      for (const p of result.packages ?? []) {
        if (!p.name || !p.version || /\s/.test(p.name + p.version))
          throw new Error(`bad package ${JSON.stringify(p)}`);
      }
    });
    expect(failures).toEqual([]);
  });
});
