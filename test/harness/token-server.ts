/**
 * A small Docker registry token service (https://distribution.github.io/distribution/spec/auth/token/)
 * for tests: `GET /token?service=&scope=` with optional Basic credentials, and the OAuth2 form
 * `POST /token` (grant_type=password or refresh_token,
 * https://distribution.github.io/distribution/spec/auth/oauth/). Tokens are RS256 JWTs signed with
 * a key made at start; the registry finds the key by its libtrust key ID (`kid`) in the
 * certificate given to it as `rootcertbundle`. Every request is recorded for assertions.
 */
import { createSign, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libtrustKeyId, makeSelfSignedCert, type TestCert } from './certs.js';

export interface TokenServerOptions {
  /** `service` the registry is configured with (default `vigil-test-registry`). */
  service?: string;
  /** `iss` of the tokens (default `vigil-test-issuer`). */
  issuer?: string;
  /** username → password; these users get every action they ask for. */
  users?: Record<string, string>;
  /** OAuth2 refresh token → username, for identity-token logins. */
  refreshTokens?: Record<string, string>;
  /** Repositories anonymous callers may pull. */
  publicRepositories?: string[];
  /** Which field carries the token in answers (default both, like Docker Hub). */
  tokenField?: 'token' | 'access_token' | 'both';
}

export interface TokenRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  authorization: string | undefined;
  /** Decoded form body of POST requests. */
  form: Record<string, string> | undefined;
}

export interface TokenServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** The realm to configure in the registry: `<url>/token`. */
  realm: string;
  host: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key: the registry's `rootcertbundle`. */
  certFile: string;
  keyId: string;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

function sign(cert: TestCert, keyId: string, claims: object): string {
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: keyId }));
  const body = b64url(JSON.stringify(claims));
  const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(cert.privateKey);
  return `${head}.${body}.${b64url(signature)}`;
}

/** Parses `repository:name:pull,push` scopes (several per parameter, space-separated). */
function parseScopes(scopes: string[]): { type: string; name: string; actions: string[] }[] {
  return scopes
    .flatMap((s) => s.split(' '))
    .filter(Boolean)
    .map((s) => {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      return {
        type: s.slice(0, first),
        name: s.slice(first + 1, last),
        actions: s.slice(last + 1).split(','),
      };
    });
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return Object.fromEntries(new URLSearchParams(text));
}

/** Starts the token service on 127.0.0.1 (a free port) with a fresh signing key. */
export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-token-'));
  let cert: TestCert;
  let keyId: string;
  try {
    cert = await makeSelfSignedCert(dir, 'vigil-token-signer');
    keyId = libtrustKeyId(cert.privateKey);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const service = options.service ?? 'vigil-test-registry';
  const issuer = options.issuer ?? 'vigil-test-issuer';
  const users = options.users ?? {};
  const requests: TokenRequest[] = [];

  const deny = (res: ServerResponse, why: string) => {
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': 'Basic realm="vigil-token"',
    });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: why }] }));
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.local');
    const form = req.method === 'POST' ? await readForm(req) : undefined;
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      form,
    });
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    let user: string | undefined;
    let scopes = url.searchParams.getAll('scope');
    if (form) {
      scopes = form.scope ? [form.scope] : [];
      if (form.grant_type === 'refresh_token') user = options.refreshTokens?.[form.refresh_token ?? ''];
      else if (form.grant_type === 'password' && users[form.username ?? ''] === form.password)
        user = form.username;
      if (!user) return deny(res, 'invalid grant');
    } else if (req.headers.authorization?.startsWith('Basic ')) {
      const [name, ...rest] = Buffer.from(req.headers.authorization.slice(6), 'base64')
        .toString('utf8')
        .split(':');
      if (name === undefined || users[name] !== rest.join(':'))
        return deny(res, 'invalid username or password');
      user = name;
    }
    const access = parseScopes(scopes)
      .filter((s) => s.type === 'repository')
      .map((s) => ({
        ...s,
        actions: user
          ? s.actions
          : options.publicRepositories?.includes(s.name)
            ? s.actions.filter((a) => a === 'pull')
            : [],
      }));
    const now = Math.floor(Date.now() / 1000);
    const token = sign(cert, keyId, {
      iss: issuer,
      sub: user ?? '',
      aud: url.searchParams.get('service') ?? form?.service ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    });
    const field = options.tokenField ?? 'both';
    const answer: Record<string, unknown> = {
      expires_in: 300,
      issued_at: new Date(now * 1000).toISOString(),
    };
    if (field !== 'access_token') answer.token = token;
    if (field !== 'token') answer.access_token = token;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    realm: `http://${host}/token`,
    host,
    service,
    issuer,
    certFile: cert.certFile,
    keyId,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
