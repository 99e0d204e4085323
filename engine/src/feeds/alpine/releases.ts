/**
 * The release list of https://secdb.alpinelinux.org/: an autoindex HTML page whose links name
 * one directory per release (`<a href="v3.19/">v3.19/</a>`), plus `edge/` and marker files.
 */

/**
 * Releases (`3.19`) linked from a secdb index page, oldest first. `edge` is left out: it is a
 * moving target that images rarely report (configure it explicitly to get it).
 */
export function parseReleaseIndex(html: string): string[] {
  const found = new Set<string>();
  for (const m of html.matchAll(/href\s*=\s*["']?(?:\.\/)?v(\d{1,3})\.(\d{1,3})\/?["'\s>]/gi))
    found.add(`${Number(m[1])}.${Number(m[2])}`);
  return [...found].sort((a, b) => {
    const [am, an] = a.split('.').map(Number) as [number, number];
    const [bm, bn] = b.split('.').map(Number) as [number, number];
    return am - bm || an - bn;
  });
}
