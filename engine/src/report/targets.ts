/**
 * Report targets, as Trivy groups results: the OS packages of the artifact first, then one
 * target per language file (lock file, binary, jar, composer installed.json…). Packages that
 * each come from their own metadata file (node_modules/x/package.json, *.dist-info/METADATA,
 * *.gemspec) are grouped per language instead ("Node.js", "Python", "Ruby"), since one section
 * per package would drown the table.
 */
import { OS_ECOSYSTEMS, type Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { compareText } from './packages.js';

export interface TargetKey {
  /** stable identity: `os`, `lang:<ecosystem>:<path>` or `lang:<ecosystem>:*<language>` */
  key: string;
  kind: 'os' | 'lang';
  /** section heading, e.g. `alpine:3.10 (alpine 3.10.4)`, `app/package-lock.json (npm)`, `Node.js (npm)` */
  title: string;
  ecosystem?: Package['ecosystem'];
}

export interface TargetGroup<T> extends TargetKey {
  items: T[];
}

const PER_PACKAGE_FILES: { ecosystem: Package['ecosystem']; re: RegExp; language: string }[] = [
  { ecosystem: 'npm', re: /(?:^|\/)node_modules\/.+\/package\.json$/, language: 'Node.js' },
  { ecosystem: 'pypi', re: /\.(?:dist-info\/METADATA|egg-info(?:\/PKG-INFO)?)$/, language: 'Python' },
  { ecosystem: 'gem', re: /\.gemspec$/, language: 'Ruby' },
];

/** The title of the OS target: `<artifact> (<family> <version>)`. */
export function osTargetTitle(scan: Pick<ScanResult, 'artifact' | 'os'>): string {
  const os = scan.os ? `${scan.os.family} ${scan.os.version}` : 'unknown OS';
  return `${scan.artifact.name} (${os})`;
}

/** The target a package belongs to. */
export function targetOf(pkg: Package, scan: Pick<ScanResult, 'artifact' | 'os'>): TargetKey {
  if (OS_ECOSYSTEMS.has(pkg.ecosystem)) return { key: 'os', kind: 'os', title: osTargetTitle(scan) };
  const path = pkg.path ?? '';
  for (const f of PER_PACKAGE_FILES) {
    if (f.ecosystem === pkg.ecosystem && f.re.test(path)) {
      return {
        key: `lang:${pkg.ecosystem}:*${f.language}`,
        kind: 'lang',
        title: `${f.language} (${pkg.ecosystem})`,
        ecosystem: pkg.ecosystem,
      };
    }
  }
  return {
    key: `lang:${pkg.ecosystem}:${path}`,
    kind: 'lang',
    title: `${path || '(no path)'} (${pkg.ecosystem})`,
    ecosystem: pkg.ecosystem,
  };
}

/**
 * Groups items by the target of their package: the OS target first, then language targets by
 * title. Items keep their order inside a group.
 */
export function groupByTarget<T>(
  items: readonly T[],
  packageOf: (item: T) => Package,
  scan: Pick<ScanResult, 'artifact' | 'os'>,
): TargetGroup<T>[] {
  const groups = new Map<string, TargetGroup<T>>();
  for (const item of items) {
    const t = targetOf(packageOf(item), scan);
    let g = groups.get(t.key);
    if (!g) {
      g = { ...t, items: [] };
      groups.set(t.key, g);
    }
    g.items.push(item);
  }
  return [...groups.values()].sort(
    (a, b) =>
      Number(b.kind === 'os') - Number(a.kind === 'os') ||
      compareText(a.title, b.title) ||
      compareText(a.key, b.key),
  );
}
