/** Default locations: the layer cache, the vulnerability database and feed downloads. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$VIGIL_CACHE_DIR`, else `$XDG_CACHE_HOME/vigil`, else `~/.cache/vigil`. */
export function defaultCacheDir(): string {
  return (
    process.env.VIGIL_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vigil')
  );
}

/** `$VIGIL_DB`, else `<cache dir>/db/vigil.db`. */
export function defaultDbPath(): string {
  return process.env.VIGIL_DB || join(defaultCacheDir(), 'db', 'vigil.db');
}
