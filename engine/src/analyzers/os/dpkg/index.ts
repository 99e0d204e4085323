/**
 * Debian/Ubuntu packages (trivy `analyzer/pkg/dpkg`, syft `cataloger/debian`, scalibr
 * `os/dpkg`): installed packages from the dpkg status database, including the one-file-per-
 * package status.d layout of distroless images, and the files those packages own (used by the
 * core to drop language packages that an OS package already covers).
 */
import { defineAnalyzer, type AnalysisResult, type AnalyzerInput } from '../../types.js';
import { parseDpkgList, parseDpkgMd5sums } from './parse-owned-files.js';
import { parseDpkgStatus } from './parse-status.js';

export { DPKG_PRESENT_STATES } from './parse-status.js';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';
const INFO = 'var/lib/dpkg/info/';

/** `dir/<name>` directly inside `dir` (no deeper), with a non-empty name. */
function childName(path: string, dir: string): string | undefined {
  if (!path.startsWith(dir)) return undefined;
  const name = path.slice(dir.length);
  return name !== '' && !name.includes('/') ? name : undefined;
}

/** A status.d package file: any direct child except the `.md5sums` lists and hidden files. */
function isStatusDFile(path: string): boolean {
  const name = childName(path, STATUS_D);
  return name !== undefined && !name.startsWith('.') && !name.endsWith('.md5sums');
}

async function readText(input: AnalyzerInput): Promise<string> {
  return (await input.content.read()).toString('utf8');
}

/**
 * `os/dpkg`: var/lib/dpkg/status and var/lib/dpkg/status.d/<pkg> (not `*.md5sums`). Result:
 * `deb` packages of the paragraphs whose state says the files are on disk (see
 * DPKG_PRESENT_STATES); broken paragraphs become unknowns. Never throws on content.
 */
export const dpkgAnalyzer = defineAnalyzer({
  name: 'os/dpkg',
  version: 1,
  tags: ['os', 'installed'],
  required(path: string): boolean {
    return path === STATUS || isStatusDFile(path);
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    const { packages, unknowns } = parseDpkgStatus(await readText(input), input.path, 'os/dpkg');
    return { packages, unknowns };
  },
});

/**
 * `os/dpkg-files`: var/lib/dpkg/info/*.list and the distroless var/lib/dpkg/status.d/*.md5sums.
 * Result: `ownedFiles` (image-relative, normalised; .list files include directories). Unreadable
 * lines become one unknown per file. Never throws on content.
 */
export const dpkgFilesAnalyzer = defineAnalyzer({
  name: 'os/dpkg-files',
  version: 1,
  tags: ['os', 'installed'],
  required(path: string): boolean {
    const list = childName(path, INFO);
    if (list !== undefined) return list.length > '.list'.length && list.endsWith('.list');
    const sums = childName(path, STATUS_D);
    return sums !== undefined && sums.length > '.md5sums'.length && sums.endsWith('.md5sums');
  },
  async analyze(input: AnalyzerInput): Promise<AnalysisResult> {
    const text = await readText(input);
    const parse = input.path.endsWith('.list') ? parseDpkgList : parseDpkgMd5sums;
    const { ownedFiles, unknowns } = parse(text, input.path);
    return { ownedFiles, unknowns };
  },
});
