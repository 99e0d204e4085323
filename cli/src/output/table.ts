/**
 * Human table of an inventory: one section per target (OS packages, then each language file),
 * columns sized to content, colour only on a TTY.
 */
import type { Package, ScanResult } from '@vigil/engine';

function table(rows: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const OS = new Set(['apk', 'deb', 'rpm']);

export function renderTable(scan: ScanResult, color: boolean): string {
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
  const out: string[] = [];
  const os = scan.os ? `${scan.os.family} ${scan.os.version}` : 'unknown OS';
  out.push(bold(`${scan.artifact.name} (${os})`), `packages: ${scan.packages.length}`, '');
  const groups = new Map<string, Package[]>();
  for (const p of scan.packages) {
    const key = OS.has(p.ecosystem) ? `OS packages (${p.ecosystem})` : `${p.path ?? ''} (${p.ecosystem})`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const [title, pkgs] of groups) {
    out.push(bold(title));
    const rows = pkgs.map((p) => [
      p.name,
      p.version,
      p.srcName && p.srcName !== p.name ? p.srcName : '',
      p.layer ? p.layer.slice(7, 19) : '',
    ]);
    out.push(table(rows, ['PACKAGE', 'VERSION', 'SOURCE', 'LAYER']), '');
  }
  if (scan.unknowns.length > 0) {
    out.push(bold(`unknowns: ${scan.unknowns.length}`));
    for (const u of scan.unknowns) out.push(`  ${u.path}: ${u.message}`);
  }
  return out.join('\n');
}
