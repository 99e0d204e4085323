/**
 * Writes an images.ts FileTree into a plain directory, for `{ dir, mode: 'rootfs' }` scans of the
 * same content the image tests put in layers.
 */
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileTree } from '../../../test/harness/images.js';

/** Creates every entry of `tree` below `root` (files, symlinks as stored, empty directories). */
export async function writeFileTree(root: string, tree: FileTree): Promise<void> {
  for (const [rel, spec] of Object.entries(tree)) {
    const path = join(root, rel.replace(/^\/+/, ''));
    await mkdir(dirname(path), { recursive: true });
    if (typeof spec === 'string' || spec instanceof Uint8Array) await writeFile(path, spec);
    else if ('symlink' in spec) await symlink(spec.symlink, path);
    else if ('dir' in spec) await mkdir(path, { recursive: true });
    else {
      await writeFile(path, spec.content);
      await chmod(path, spec.mode ?? 0o644);
    }
  }
}
