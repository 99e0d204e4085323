import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiToken, hashApiToken, hashPassword, verifyPassword } from './credentials.js';

describe('passwords', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect({
      shape: /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/.test(a),
      saltsDiffer: a !== b,
      right: await verifyPassword('correct horse battery staple', a),
      wrong: await verifyPassword('correct horse battery stapler', a),
      // NFC and NFD spellings of the same text are the same password
      normalised: await verifyPassword('caf\u0065\u0301', await hashPassword('caf\u00e9')),
    }).toEqual({ shape: true, saltsDiffer: true, right: true, wrong: false, normalised: true });
  });

  it.each([
    ['not a hash'],
    ['scrypt$16384$8$1$c2FsdA'],
    ['bcrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA'],
    // a tampered cost would ask for 128 GiB
    ['scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$aGk'],
  ])('treats the malformed stored hash %s as a mismatch', async (stored) => {
    expect(await verifyPassword('x', stored)).toBe(false);
  });
});

describe('API tokens', () => {
  it('stores only the sha256 of a 256-bit secret', () => {
    const { token, hash, prefix } = generateApiToken();
    expect({
      token: /^vgl_[A-Za-z0-9_-]{43}$/.test(token),
      hash: hash === createHash('sha256').update(token).digest('hex'),
      prefix: prefix === token.slice(0, 8),
      again: hashApiToken(token) === hash,
      unique: generateApiToken().token !== token,
    }).toEqual({ token: true, hash: true, prefix: true, again: true, unique: true });
  });
});
