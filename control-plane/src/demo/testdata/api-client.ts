/**
 * Test support (not built): a small REST client for the server e2e tests (session login, API tokens, JSON
 * calls) and `waitFor`, which polls until a condition holds (a generous deadline only guards against hangs;
 * nothing asserts on time).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface ApiResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

export class ApiClient {
  private cookie: string | null = null;
  private csrf: string | null = null;
  private bearer: string | null = null;

  constructor(readonly url: string) {}

  async call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    else if (this.cookie) {
      headers.cookie = this.cookie;
      if (this.csrf) headers['x-csrf-token'] = this.csrf;
    }
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (HTML, metrics text)
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** Signs in with a password; later calls use the session cookie and its CSRF token. */
  async login(email: string, password: string): Promise<ApiResponse> {
    const res = await this.call('POST', '/api/v1/auth/login', { email, password });
    if (res.status === 200) {
      this.cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      this.csrf = (res.body as { csrfToken: string }).csrfToken;
    }
    return res;
  }

  /** Creates an API token with the session and switches to it (bearer). Returns the secret. */
  async useNewToken(scopes: string[]): Promise<string> {
    const res = await this.call('POST', '/api/v1/tokens', { name: `test-${Date.now()}`, scopes });
    if (res.status !== 201 && res.status !== 200) {
      throw new Error(`token creation failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    this.bearer = (res.body as { secret: string }).secret;
    return this.bearer;
  }
}

/** Polls `probe` until it returns a value other than undefined; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 180_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}
