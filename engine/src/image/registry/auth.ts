/**
 * Answers registry 401 challenges: Bearer (token from the realm, https://distribution.github.io/distribution/spec/auth/token/,
 * OAuth2 refresh-token exchange for identity tokens, https://distribution.github.io/distribution/spec/auth/oauth/)
 * and Basic. Credentials are loaded lazily (only when a registry asks) and sent only to the
 * registry's own origin and to the token realm.
 */
import { EngineError } from '../../errors.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { loadCredentials, type CredentialSources, type Credentials } from './credentials.js';
import { failure, readBody, send, type Transport } from './http.js';

const TOKEN_BODY_MAX = 1024 * 1024;
/** Token lifetime assumed when the answer has none (the spec's minimum). */
const DEFAULT_TOKEN_SECONDS = 60;

export interface AuthTarget {
  /** Origin of the registry API, e.g. `https://ghcr.io`. */
  origin: string;
  /** Credential key (`docker.io`, `ghcr.io`). */
  domain: string;
  repository: string;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export class RegistryAuth {
  #authorization: string | undefined;
  #credentials: Promise<Credentials | undefined> | undefined;
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly transport: Transport,
    private readonly target: AuthTarget,
    private readonly sources: CredentialSources,
  ) {
    if (sources.auth && 'token' in sources.auth) this.#authorization = `Bearer ${sources.auth.token}`;
  }

  /** Authorization header value for registry requests (undefined: anonymous so far). */
  get authorization(): string | undefined {
    return this.#authorization;
  }

  #loadCredentials(): Promise<Credentials | undefined> {
    this.#credentials ??= loadCredentials(this.target.domain, {
      ...this.sources,
      ...(this.transport.signal ? { signal: this.transport.signal } : {}),
    });
    return this.#credentials;
  }

  /**
   * Handles a 401 answer whose request carried `used` as Authorization.
   * @returns true when new authorization was obtained and the request is worth repeating.
   * @throws EngineError from the token service (ENG_REGISTRY_UNAUTHORIZED for refused
   *   credentials, …) or from credential lookup.
   */
  async answer(wwwAuthenticate: string | string[] | undefined, used: string | undefined): Promise<boolean> {
    const challenges = parseChallenges(wwwAuthenticate);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basicChallenge = challenges.find((c) => c.scheme === 'basic');
    if (!bearer && !basicChallenge) return false;
    const credentials = await this.#loadCredentials();
    let next: string | undefined;
    if (credentials?.kind === 'bearer') {
      // a registry token (option or config.json `registrytoken`) is sent as is, never exchanged
      if (bearer) next = `Bearer ${credentials.token}`;
    } else if (bearer) {
      next = `Bearer ${await this.#token(bearer, credentials, used !== undefined)}`;
    } else if (credentials?.kind === 'basic') {
      next = basic(credentials.username, credentials.password);
    }
    if (next === undefined || next === used) return false;
    this.#authorization = next;
    return true;
  }

  async #token(challenge: Challenge, credentials: Credentials | undefined, fresh: boolean): Promise<string> {
    const { realm = '', service } = challenge.params;
    const scopes = new Set([`repository:${this.target.repository}:pull`]);
    for (const s of (challenge.params.scope ?? '').split(' ')) if (s) scopes.add(s);
    const key = JSON.stringify([realm, service, [...scopes]]);
    const cached = this.#tokens.get(key);
    if (cached && !fresh && cached.expiresAt > Date.now()) return cached.token;

    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new EngineError(
        'ENG_REGISTRY_PROTOCOL',
        `registry ${this.target.origin} sent an invalid token realm "${realm}"`,
      );
    }
    const subject = `token for ${this.target.domain}/${this.target.repository} from ${url.origin}${url.pathname}`;
    const form = new URLSearchParams();
    if (service !== undefined) form.set('service', service);
    let authorization: string | undefined;
    if (credentials?.kind === 'identity-token') {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', credentials.token);
      form.set('client_id', 'vigil');
      form.set('scope', [...scopes].join(' '));
    } else {
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (service !== undefined) url.searchParams.set('service', service);
      if (credentials?.kind === 'basic') {
        url.searchParams.set('account', credentials.username);
        authorization = basic(credentials.username, credentials.password);
      }
    }
    const post = credentials?.kind === 'identity-token';
    const res = await send(this.transport, {
      method: post ? 'POST' : 'GET',
      url,
      headers: post
        ? { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
        : { accept: 'application/json' },
      ...(post ? { body: form.toString() } : {}),
      ...(authorization ? { authorization, authOrigin: url.origin } : {}),
      subject,
    });
    if (res.status !== 200) throw await failure(res, subject);
    const body = await readBody(
      res,
      TOKEN_BODY_MAX,
      subject,
      () => new EngineError('ENG_REGISTRY_PROTOCOL', `${subject}: answer too large`),
    );
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new EngineError('ENG_REGISTRY_PROTOCOL', `${subject}: answer is not JSON`);
    }
    const token = typeof doc?.token === 'string' && doc.token ? doc.token : doc?.access_token;
    if (typeof token !== 'string' || token === '')
      throw new EngineError('ENG_REGISTRY_PROTOCOL', `${subject}: answer has no token`);
    const seconds =
      typeof doc.expires_in === 'number' && doc.expires_in > DEFAULT_TOKEN_SECONDS
        ? doc.expires_in
        : DEFAULT_TOKEN_SECONDS;
    // renew a little early so a token does not expire between a check and its use
    this.#tokens.set(key, { token, expiresAt: Date.now() + (seconds - 10) * 1000 });
    return token;
  }
}
