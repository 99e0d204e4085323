/**
 * Registry credentials: explicit options, else the docker CLI's config.json
 * (https://docs.docker.com/reference/cli/docker/#docker-cli-configuration-file-configjson-properties):
 * `credHelpers[registry]`, then `auths[registry]` (`auth` = base64 "user:password", or
 * username/password, `identitytoken`, `registrytoken`), then `credsStore`.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../errors.js';
import { runCredentialHelper, type Credentials } from './cred-helper.js';
import { DOCKER_HUB_DOMAIN } from './reference.js';

export type { Credentials } from './cred-helper.js';

/** Credentials given directly: user and password, or a registry bearer token. */
export type AuthOption = { username: string; password: string } | { token: string };

export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfig {
  auths: Record<string, DockerAuthEntry>;
  credHelpers: Record<string, string>;
  credsStore?: string;
}

/** The key Docker Hub credentials are stored under (and passed to helpers). */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** Registry key of a config.json entry: scheme and path dropped, Docker Hub aliases → `docker.io`. */
export function normalizeAuthKey(key: string): string {
  const host = key
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB_DOMAIN : host;
}

function bad(path: string, why: string): EngineError {
  return new EngineError('ENG_INVALID_ARGUMENT', `docker config ${path}: ${why}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses config.json text, keeping only the credential parts (other keys are ignored).
 * @throws EngineError ENG_INVALID_ARGUMENT when the text is not a JSON object.
 */
export function parseDockerConfig(text: string, path: string): DockerConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(path, 'not valid JSON');
  }
  if (!isRecord(doc)) throw bad(path, 'not a JSON object');
  const config: DockerConfig = { auths: {}, credHelpers: {} };
  if (isRecord(doc.auths)) {
    for (const [key, value] of Object.entries(doc.auths)) {
      if (!isRecord(value)) continue;
      const entry: DockerAuthEntry = {};
      for (const field of ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const) {
        if (typeof value[field] === 'string' && value[field] !== '') entry[field] = value[field];
      }
      config.auths[key] = entry;
    }
  }
  if (isRecord(doc.credHelpers)) {
    for (const [key, value] of Object.entries(doc.credHelpers))
      if (typeof value === 'string') config.credHelpers[key] = value;
  }
  if (typeof doc.credsStore === 'string' && doc.credsStore !== '') config.credsStore = doc.credsStore;
  return config;
}

/**
 * Credentials of one `auths` entry.
 * @throws EngineError ENG_INVALID_ARGUMENT when `auth` is not base64 of "user:password".
 */
export function credentialsFromEntry(entry: DockerAuthEntry, where: string): Credentials | undefined {
  if (entry.registrytoken) return { kind: 'bearer', token: entry.registrytoken };
  let { username, password } = entry;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw bad(where, 'an "auth" value is not base64 of "user:password"');
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (entry.identitytoken)
    return { kind: 'identity-token', token: entry.identitytoken, ...(username ? { username } : {}) };
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return undefined;
}

function find<T>(record: Record<string, T>, domain: string): [string, T] | undefined {
  return Object.entries(record).find(([key]) => normalizeAuthKey(key) === domain);
}

export interface CredentialSources {
  auth?: AuthOption;
  dockerConfigPath?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Credentials for a registry `domain` (`docker.io`, `ghcr.io`, `localhost:5000`).
 * @returns undefined for anonymous access (no options, no config file, no matching entry).
 * @throws EngineError ENG_INVALID_ARGUMENT (unreadable or malformed config.json),
 *   ENG_CREDENTIALS_HELPER_FAILED (a configured helper failed).
 */
export async function loadCredentials(
  domain: string,
  sources: CredentialSources,
): Promise<Credentials | undefined> {
  if (sources.auth) {
    return 'token' in sources.auth
      ? { kind: 'bearer', token: sources.auth.token }
      : { kind: 'basic', username: sources.auth.username, password: sources.auth.password };
  }
  const path = sources.dockerConfigPath ?? defaultDockerConfigPath();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw bad(path, `cannot be read (${(error as Error).message})`);
  }
  const config = parseDockerConfig(text, path);
  const serverUrl = domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_AUTH_KEY : domain;
  const helperOptions = {
    ...(sources.signal ? { signal: sources.signal } : {}),
    ...(sources.timeoutMs ? { timeoutMs: sources.timeoutMs } : {}),
  };
  const helper = find(config.credHelpers, domain);
  if (helper) return runCredentialHelper(helper[1], serverUrl, helperOptions);
  const entry = find(config.auths, domain);
  const fromEntry = entry ? credentialsFromEntry(entry[1], path) : undefined;
  if (fromEntry) return fromEntry;
  if (config.credsStore) return runCredentialHelper(config.credsStore, serverUrl, helperOptions);
  return undefined;
}
