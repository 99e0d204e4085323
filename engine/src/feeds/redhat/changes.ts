/**
 * The indexes of Red Hat's CSAF directories (https://security.access.redhat.com/data/csaf/v2/vex/
 * and …/advisories/): `changes.csv` and `deletions.csv`, one `"<year>/<file>.json","<ISO time>"`
 * row per document (the time of its last change or of its removal), and `archive_latest.txt`
 * naming the current full archive (`csaf_vex_2025-02-15.tar.zst`).
 */

export interface IndexRow {
  /** `2024/cve-2024-10041.json` */
  path: string;
  /** epoch milliseconds */
  time: number;
}

const ROW = /^"?(\d{4}\/[A-Za-z0-9][A-Za-z0-9_.-]*\.json)"?\s*,\s*"?([^",]+)"?\s*$/;

/**
 * Rows of a changes/deletions index. Lines that are not a safe relative path and a time are
 * returned in `bad` (line numbers, 1-based).
 */
export function parseIndexCsv(text: string): { rows: IndexRow[]; bad: number[] } {
  const rows: IndexRow[] = [];
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = ROW.exec(line.trim());
    const time = m ? Date.parse(m[2]!) : NaN;
    if (!m || Number.isNaN(time) || m[1]!.includes('..')) bad.push(i + 1);
    else rows.push({ path: m[1]!, time });
  });
  return { rows, bad };
}

/** The document id a CSAF path names: `2024/cve-2024-10041.json` → CVE-2024-10041, `2024/rhsa-2024_6163.json` → RHSA-2024:6163. */
export function idFromPath(path: string): string | undefined {
  const base =
    path
      .split('/')
      .pop()
      ?.replace(/\.json$/i, '') ?? '';
  const cve = /^cve-(\d{4})-(\d{4,})$/i.exec(base);
  if (cve) return `CVE-${cve[1]}-${cve[2]}`;
  const erratum = /^(rh[sbe]a)-(\d{4})_(\d+)$/i.exec(base);
  if (erratum) return `${erratum[1]!.toUpperCase()}-${erratum[2]}:${erratum[3]}`;
  return undefined;
}

/** The archive file named by archive_latest.txt, and the day it was cut (UTC midnight, ms). */
export function parseArchiveLatest(text: string): { file: string; day?: number } | undefined {
  const file = text.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*\.tar\.zst$/.test(file)) return undefined;
  const date = /(\d{4}-\d{2}-\d{2})/.exec(file)?.[1];
  const day = date ? Date.parse(`${date}T00:00:00Z`) : NaN;
  return Number.isNaN(day) ? { file } : { file, day };
}
