/**
 * The human table of an inventory-only scan (no vulnerability database): one section per
 * target (OS packages, then each language file in the order met), columns PACKAGE, VERSION,
 * SOURCE, LAYER. Moved here from the CLI unchanged in output.
 */
import { OS_ECOSYSTEMS, type Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { STYLE, layoutTable } from './table-layout.js';
import { osTargetTitle } from './targets.js';
import { oneLine } from './text.js';

/** Renders the package table of `scan`; `color` adds bold headings (ANSI). No trailing newline. */
export function renderInventoryTable(scan: ScanResult, color: boolean): string {
  const bold = (s: string) => (color ? STYLE.bold(s) : s);
  const out: string[] = [];
  out.push(bold(oneLine(osTargetTitle(scan))), `packages: ${scan.packages.length}`, '');
  const groups = new Map<string, Package[]>();
  for (const p of scan.packages) {
    const key = OS_ECOSYSTEMS.has(p.ecosystem)
      ? `OS packages (${p.ecosystem})`
      : `${p.path ?? ''} (${p.ecosystem})`;
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  for (const [title, pkgs] of groups) {
    out.push(bold(oneLine(title)));
    const rows = pkgs.map((p) => [
      p.name,
      p.version,
      p.srcName && p.srcName !== p.name ? p.srcName : '',
      p.layer ? p.layer.slice(7, 19) : '',
    ]);
    out.push(layoutTable(['PACKAGE', 'VERSION', 'SOURCE', 'LAYER'], rows), '');
  }
  if (scan.unknowns.length > 0) {
    out.push(bold(`unknowns: ${scan.unknowns.length}`));
    for (const u of scan.unknowns) out.push(`  ${oneLine(u.path)}: ${oneLine(u.message)}`);
  }
  return out.join('\n');
}
