/**
 * Test key material made at test time: an RSA key from node:crypto and a self-signed
 * certificate for it from `openssl req -x509` (used as TLS server cert or JWT signing cert).
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.js';

export interface TestCert {
  keyFile: string;
  certFile: string;
  privateKey: KeyObject;
  /** The certificate as base64 DER (for a JWT `x5c` header). */
  certDerBase64: string;
}

/**
 * Generates an RSA-2048 key and a self-signed certificate valid for two days, with
 * subjectAltName IP:127.0.0.1 and DNS:localhost so it also serves loopback TLS.
 */
export async function makeSelfSignedCert(dir: string, commonName: string): Promise<TestCert> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, `${commonName}.key.pem`);
  const certFile = join(dir, `${commonName}.cert.pem`);
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await run('openssl', [
    'req',
    '-x509',
    '-key',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const certDerBase64 = (await readFile(certFile, 'utf8'))
    .replace(/-----[^-]+-----/g, '')
    .replace(/\s+/g, '');
  return { keyFile, certFile, privateKey, certDerBase64 };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * The libtrust key ID docker distribution (v2.x) uses to find a token's signing key among the
 * `rootcertbundle` certificates: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits,
 * base32, in 12 colon-separated groups of 4 (`ABCD:EFGH:…`).
 */
export function libtrustKeyId(key: KeyObject): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(spki).digest().subarray(0, 30);
  return base32(hash).match(/.{4}/g)!.join(':');
}
