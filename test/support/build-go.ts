/**
 * Builds real Go binaries at test time with the system `go`, fully offline: modules come from a
 * `file://` module proxy written from a source tree (GOPROXY protocol:
 * https://go.dev/ref/mod#goproxy-protocol), caches live in a temp dir, VCS stamping is off.
 * Tests use `describe.skipIf(!hasGo)` so a machine without Go says why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';

/** True when a `go` command is on PATH. */
export const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;

if (!hasGo) process.stderr.write('go not found on PATH: tests that build Go binaries are skipped\n');

function goEnv(workDir: string, goproxy: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: workDir,
    GOENV: 'off',
    GOCACHE: join(workDir, 'gocache'),
    GOPATH: join(workDir, 'gopath'),
    GOPROXY: goproxy,
    GOFLAGS: '-mod=mod -modcacherw',
    GOSUMDB: 'off',
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
    GOOS: 'linux',
    CGO_ENABLED: '0',
  };
}

/** The toolchain version as Go records it in binaries (`go env GOVERSION`, e.g. `go1.22.1`). */
export function goToolchainVersion(): string {
  return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

/**
 * Writes a module proxy tree from `srcDir`, which holds one directory per module version named
 * `<module path>@<version>` (e.g. `example.com/greet@v1.2.3/`, containing go.mod). Returns the
 * GOPROXY value (`file://…`).
 */
export function writeGoProxy(srcDir: string, outDir: string): string {
  const versions = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (!statSync(p).isDirectory()) continue;
      if (!name.includes('@')) {
        walk(p);
        continue;
      }
      const rel = relative(srcDir, p).split('\\').join('/');
      const [modPath, version] = rel.split('@') as [string, string];
      const files: Record<string, Uint8Array> = {};
      for (const f of listFiles(p)) files[`${rel}/${relative(p, f).split('\\').join('/')}`] = readFileSync(f);
      const at = join(outDir, modPath, '@v');
      mkdirSync(at, { recursive: true });
      writeFileSync(join(at, `${version}.mod`), readFileSync(join(p, 'go.mod')));
      writeFileSync(
        join(at, `${version}.info`),
        JSON.stringify({ Version: version, Time: '2020-01-01T00:00:00Z' }),
      );
      writeFileSync(join(at, `${version}.zip`), zipSync(files));
      versions.set(modPath, [...(versions.get(modPath) ?? []), version]);
    }
  };
  walk(srcDir);
  for (const [modPath, list] of versions)
    writeFileSync(join(outDir, modPath, '@v', 'list'), `${list.join('\n')}\n`);
  return pathToFileURL(outDir).href;
}

export interface GoBuild {
  /** scratch directory (caches, copies); the caller removes it */
  workDir: string;
  /** directory holding the modules to copy (the main module and its local replacements) */
  sourceDir: string;
  /** main module directory, relative to sourceDir */
  main: string;
  /** output binary path */
  output: string;
  ldflags?: string;
  /** GOPROXY value (default `off`) */
  goproxy?: string;
}

/** Copies the sources into workDir and runs `go build`; throws with go's output on failure. */
export function buildGo(b: GoBuild): void {
  const src = join(b.workDir, 'src');
  cpSync(b.sourceDir, src, { recursive: true });
  // no -trimpath: with it Go leaves -ldflags out of the build info
  const args = ['build', '-buildvcs=false', '-o', b.output];
  if (b.ldflags) args.push(`-ldflags=${b.ldflags}`);
  args.push('.');
  const r = spawnSync('go', args, {
    cwd: join(src, b.main),
    env: goEnv(b.workDir, b.goproxy ?? 'off'),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`go build failed (${r.status}): ${r.stderr}${r.error ?? ''}`);
}
