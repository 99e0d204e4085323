/** A FeedBody over a file on disk, for loading feed files into a reader without `db build`. */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { FeedBody } from '../feeds/types.js';

/**
 * A body that opens `path` (bytes as stored: each feed's parser handles the compression its format
 * uses). Opening a missing file rejects with the fs error (ENOENT) when the stream is read.
 */
export function fileBody(path: string, name: string = basename(path)): FeedBody {
  return { name, open: async () => createReadStream(path) };
}
