/** Unique, deterministic element ids (CycloneDX bom-refs, SPDX ids) for report packages. */
import { createHash } from 'node:crypto';
import type { Package } from '../model/package.js';

/** 16 hex digits identifying a package by what tells two copies apart (where it was found). */
export function packageId(pkg: Package): string {
  const key = JSON.stringify([pkg.ecosystem, pkg.name, pkg.version, pkg.path ?? '', pkg.layer ?? '']);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * One id per item, in order: `base` when no other item has the same base, else
 * `disambiguate(base, packageId(pkg))`, and a `-2`, `-3`… suffix for exact duplicates.
 * Stable: an item's id depends on its own fields and on which bases collide, not on order.
 */
export function uniqueIds(
  items: readonly { pkg: Package; base: string }[],
  disambiguate: (base: string, id: string) => string,
): string[] {
  const counts = new Map<string, number>();
  for (const { base } of items) counts.set(base, (counts.get(base) ?? 0) + 1);
  const used = new Set<string>();
  return items.map(({ pkg, base }) => {
    let id = counts.get(base) === 1 ? base : disambiguate(base, packageId(pkg));
    if (used.has(id)) {
      let n = 2;
      while (used.has(`${id}-${n}`)) n++;
      id = `${id}-${n}`;
    }
    used.add(id);
    return id;
  });
}
