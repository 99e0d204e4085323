/** CSRF rules for cookie-authenticated requests, as a table. */
import { describe, expect, it } from 'vitest';
import { checkCsrf, type CsrfRequest } from './csrf.js';

const TOKEN = 'session-csrf-token-0123456789-abcdefghijklmnop';
const OWN = ['https://vigil.example.com', 'http://localhost:5173'];

function verdict(request: Partial<CsrfRequest>): string {
  try {
    checkCsrf(
      { method: 'POST', token: TOKEN, origin: undefined, referer: undefined, ...request },
      TOKEN,
      OWN,
    );
    return 'pass';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('checkCsrf', () => {
  it('passes safe methods, and writes with the token from an allowed or unstated origin', () => {
    expect({
      get: verdict({ method: 'GET', token: undefined, origin: 'https://evil.example' }),
      head: verdict({ method: 'HEAD', token: undefined }),
      options: verdict({ method: 'OPTIONS', token: undefined }),
      ownOrigin: verdict({ origin: 'https://vigil.example.com' }),
      devOrigin: verdict({ origin: 'http://localhost:5173' }),
      ownReferer: verdict({ referer: 'https://vigil.example.com/images?sort=name' }),
      noOrigin: verdict({}),
      noToken: verdict({ token: undefined }),
      wrongToken: verdict({ token: TOKEN.replace('0', '1') }),
      shortToken: verdict({ token: TOKEN.slice(1) }),
      emptyToken: verdict({ token: '' }),
      foreignOrigin: verdict({ origin: 'https://evil.example' }),
      lookalikeOrigin: verdict({ origin: 'https://vigil.example.com.evil.example' }),
      otherScheme: verdict({ origin: 'http://vigil.example.com' }),
      nullOrigin: verdict({ origin: 'null' }),
      foreignReferer: verdict({ referer: 'https://evil.example/x' }),
      brokenReferer: verdict({ referer: 'not a url' }),
      deleteWithoutToken: verdict({ method: 'DELETE', token: undefined }),
    }).toEqual({
      get: 'pass',
      head: 'pass',
      options: 'pass',
      ownOrigin: 'pass',
      devOrigin: 'pass',
      ownReferer: 'pass',
      noOrigin: 'pass',
      noToken: 'CP_CSRF',
      wrongToken: 'CP_CSRF',
      shortToken: 'CP_CSRF',
      emptyToken: 'CP_CSRF',
      foreignOrigin: 'CP_CSRF',
      lookalikeOrigin: 'CP_CSRF',
      otherScheme: 'CP_CSRF',
      nullOrigin: 'CP_CSRF',
      foreignReferer: 'CP_CSRF',
      brokenReferer: 'CP_CSRF',
      deleteWithoutToken: 'CP_CSRF',
    });
  });
});
