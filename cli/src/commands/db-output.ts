/**
 * Human output of the `vigil db` commands: the status table, build and update summaries, and the
 * per-feed progress line (TTY stderr only).
 */
import type {
  BuildSnapshotResult,
  SnapshotMeta,
  SourceMeta,
  UpdateProgress,
  UpdateSnapshotResult,
} from '@vigil/engine/db';

/** `3d`, `5h`, `12m`, `40s` (negative ages, a clock skew, read `0s`). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h`;
  if (s >= 60) return `${Math.floor(s / 60)}m`;
  return `${s}s`;
}

const ago = (iso: string | undefined, now: number) =>
  iso ? `${iso.slice(0, 19)}Z (${formatAge(now - Date.parse(iso))} ago)` : '-';

function table(rows: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

/** `db status --format table`. */
export function renderStatus(path: string, meta: SnapshotMeta, now = Date.now()): string {
  const rows = meta.sources.map((s) => [
    s.name,
    String(s.counts.vulnerabilities),
    String(s.counts.affected),
    String(s.counts.kev),
    String(s.counts.epss),
    String(s.counts.malformed),
    ago(s.updatedAt, now),
    ago(s.checkedAt, now),
    s.lastError ?? '',
  ]);
  return [
    `database  ${path}`,
    `version   ${meta.version}`,
    `built     ${ago(meta.builtAt, now)}`,
    `schema    ${meta.schemaVersion}`,
    '',
    meta.sources.length
      ? table(rows, [
          'SOURCE',
          'VULNS',
          'AFFECTED',
          'KEV',
          'EPSS',
          'MALFORMED',
          'UPDATED',
          'CHECKED',
          'LAST ERROR',
        ])
      : '(no sources)',
  ].join('\n');
}

const counts = (s: SourceMeta) =>
  [
    `${s.counts.vulnerabilities} vulnerabilities`,
    `${s.counts.affected} affected`,
    ...(s.counts.kev ? [`${s.counts.kev} kev`] : []),
    ...(s.counts.epss ? [`${s.counts.epss} epss`] : []),
    ...(s.counts.malformed ? [`${s.counts.malformed} malformed`] : []),
    ...(s.counts.withdrawn ? [`${s.counts.withdrawn} withdrawn`] : []),
  ].join(', ');

/** Lines on stderr after `db build`: warnings for files not used, then one line per source. */
export function buildSummary(out: string, result: BuildSnapshotResult, maxListed = 50): string[] {
  const lines: string[] = [];
  for (const u of result.unrecognized.slice(0, maxListed))
    lines.push(`warning: not used: ${u.path}: ${u.message}`);
  if (result.unrecognized.length > maxListed)
    lines.push(
      `warning: … and ${result.unrecognized.length - maxListed} more not used (--format json lists all)`,
    );
  for (const u of result.skipped) lines.push(`warning: skipped (${u.source}): ${u.path}: ${u.message}`);
  for (const s of result.applied) lines.push(`${s.name}: ${counts(s)}`);
  lines.push(
    `wrote ${out}: version ${result.meta.version.slice(0, 12)}, ${result.files} files read, ${result.unrecognized.length} not used`,
  );
  return lines;
}

/** Lines on stderr after `db update`. */
export function updateSummary(db: string, result: UpdateSnapshotResult): string[] {
  const lines: string[] = [];
  if (result.rebuiltBecause)
    lines.push(`warning: the previous file was not usable (${result.rebuiltBecause}); rebuilt`);
  for (const f of result.feeds) {
    const what =
      f.status === 'updated'
        ? `updated (${f.mode})`
        : f.status === 'failed'
          ? `FAILED: ${f.error}`
          : 'unchanged';
    lines.push(`${f.name}: ${what}${f.source && f.status !== 'failed' ? `; ${counts(f.source)}` : ''}`);
    if (f.status === 'updated' && f.error) lines.push(`warning: ${f.name}: ${f.error}`);
  }
  const same = result.previousVersion === result.meta.version;
  lines.push(`${db}: version ${result.meta.version.slice(0, 12)}${same ? ' (content unchanged)' : ''}`);
  return lines;
}

/** One rewritten progress line per feed on a TTY; nothing otherwise. */
export function updateProgressLine(enabled: boolean): {
  onProgress?: (p: UpdateProgress) => void;
  done: () => void;
} {
  if (!enabled) return { done: () => undefined };
  const stream = process.stderr;
  let last = 0;
  const line = (text: string) => stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 100) - 1)}`);
  return {
    onProgress(p) {
      const now = Date.now();
      if (p.phase === 'fetch' || p.phase === 'apply') {
        if (p.done !== undefined && now - last < 100) return;
        last = now;
        const n = p.done === undefined ? '' : ` ${p.done}${p.total === undefined ? '' : `/${p.total}`}`;
        line(`${p.feed}: ${p.phase === 'fetch' ? 'downloading' : 'applying'}${n}`);
      } else {
        line('');
      }
    },
    done: () => stream.write('\r\x1b[2K'),
  };
}
