/**
 * Package `os/rpm`: installed rpm packages from the rpm database, in any of its three backends,
 * without the rpm tool:
 * - Berkeley DB hash `Packages` (rpm < 4.16: RHEL ≤ 8, CentOS, Amazon Linux 2, SLES < 15.3),
 * - ndb `Packages.db` (SUSE 15.3+),
 * - SQLite `rpmdb.sqlite` (rpm ≥ 4.16: Fedora 33+, RHEL 9, CBL-Mariner / Azure Linux).
 * The backend is recognised by content, not by file name. Each header blob is decoded by
 * header.ts and mapped by package-info.ts. A corrupt page, slot, blob or header becomes an
 * unknown with the reason and the other packages are still returned; analyze never throws.
 */
import { throwIfAborted } from '../../../errors.js';
import type { Unknown } from '../../../model/unknown.js';
import type { Package } from '../../../model/package.js';
import { defineAnalyzer, type AnalysisResult, type AnalyzerInput } from '../../types.js';
import { isBdbHash, readBdb } from './bdb.js';
import type { DbRecord } from './db-record.js';
import { parseHeader } from './header.js';
import { isNdb, readNdb } from './ndb.js';
import { headerToPackage } from './package-info.js';
import { isSqlite, readSqlite } from './sqlite.js';

const NAME = 'os/rpm';

/** The rpm database files, image-relative (rpm ≥ 4.16 moved them to /usr/lib/sysimage/rpm). */
export const RPM_DB_PATHS = [
  'var/lib/rpm/Packages',
  'var/lib/rpm/Packages.db',
  'var/lib/rpm/rpmdb.sqlite',
  'usr/lib/sysimage/rpm/Packages',
  'usr/lib/sysimage/rpm/Packages.db',
  'usr/lib/sysimage/rpm/rpmdb.sqlite',
] as const;

const WANTED: ReadonlySet<string> = new Set(RPM_DB_PATHS);

/** At most this many unknowns per database file; the last one says how many were left out. */
const MAX_UNKNOWNS = 50;

/**
 * The rpm analyzer. `required` matches the six database paths exactly; `analyze` returns the
 * installed packages (gpg-pubkey pseudo packages left out), the files they own, and unknowns
 * for whatever part of the database could not be read.
 */
export const rpmAnalyzer = defineAnalyzer({
  name: NAME,
  version: 1,
  tags: ['os', 'installed'],
  staticPaths: RPM_DB_PATHS,
  required: (path: string) => WANTED.has(path),
  analyze: analyzeRpmDb,
});

async function analyzeRpmDb(input: AnalyzerInput): Promise<AnalysisResult> {
  const problems: string[] = [];
  const packages: Package[] = [];
  const owned = new Set<string>();
  try {
    for await (const record of records(input)) {
      throwIfAborted(input.signal);
      if (record.kind === 'problem') {
        problems.push(record.message);
        continue;
      }
      try {
        const info = headerToPackage(parseHeader(record.blob), NAME);
        if (!info) continue;
        packages.push(info.package);
        for (const file of info.files) owned.add(file);
        for (const p of info.problems) problems.push(`${info.package.name}: ${p}`);
      } catch (error) {
        problems.push(`record ${record.key}: ${message(error)}`);
      }
    }
  } catch (error) {
    if (input.signal?.aborted) throw error;
    problems.push(message(error));
  }
  const result: AnalysisResult = { packages, ownedFiles: [...owned] };
  if (problems.length > 0) result.unknowns = toUnknowns(input.path, problems);
  return result;
}

async function* records(input: AnalyzerInput): AsyncGenerator<DbRecord> {
  if (input.content.size === 0) return;
  const head = await input.content.readAt(0, 64);
  if (isSqlite(head)) yield* readSqlite(await input.content.read());
  else if (isNdb(head)) yield* readNdb(input.content);
  else if (isBdbHash(head)) yield* readBdb(input.content);
  else yield { kind: 'problem', message: 'not an rpm database (no Berkeley DB, ndb or SQLite signature)' };
}

function toUnknowns(path: string, problems: string[]): Unknown[] {
  const shown = problems.length > MAX_UNKNOWNS ? problems.slice(0, MAX_UNKNOWNS - 1) : problems;
  const out = shown.map((p): Unknown => ({ path, message: `rpm database: ${p}`, source: NAME }));
  if (shown.length < problems.length) {
    out.push({
      path,
      message: `rpm database: ${problems.length - shown.length} more problems`,
      source: NAME,
    });
  }
  return out;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
