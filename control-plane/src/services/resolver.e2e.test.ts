/**
 * The registry resolver against a registry on loopback (a small OCI distribution endpoint answering manifest
 * HEADs): a tag resolves to the digest the registry announces, `repo@digest` resolves without any request,
 * and unknown tags, refused credentials and bad references are CP_IMAGE_UNRESOLVABLE.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registryResolver } from './resolver.js';

const digest = `sha256:${createHash('sha256').update('manifest').digest('hex')}`;
let server: Server;
let host: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/') return void res.writeHead(200).end();
    if (req.url === '/v2/team/app/manifests/1.0') {
      return void res
        .writeHead(200, {
          'docker-content-digest': digest,
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'content-length': '512',
        })
        .end();
    }
    if (req.url?.startsWith('/v2/private/')) return void res.writeHead(403).end();
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('resolves tags with a manifest HEAD, digests without a request, and refuses what it cannot resolve', async () => {
  const resolver = registryResolver({
    insecureRegistries: [host],
    retries: 0,
    dockerConfigPath: '/nonexistent/config.json',
  });
  const tag = await resolver.resolve(`${host}/team/app:1.0`);
  const beforePinned = requests.length;
  const pinned = await resolver.resolve(`${host}/team/app@${digest}`);
  const requestsForDigest = requests.length - beforePinned;
  const failures = await Promise.all(
    [`${host}/team/app:2.0`, `${host}/private/app:1.0`, 'Not A Reference'].map((ref) =>
      resolver
        .resolve(ref)
        .catch((e: { code: string; message: string }) => [
          e.code,
          e.message.slice(0, e.message.indexOf('"', 17) + 1),
        ]),
    ),
  );
  expect({
    tag,
    pinned,
    requestsForDigest,
    headOfTag: requests.includes('HEAD /v2/team/app/manifests/1.0'),
    failures,
    jobReference: resolver.jobReference({ repository: tag.repository, digest: tag.digest }),
  }).toEqual({
    tag: { repository: `${host}/team/app`, digest, tags: ['1.0'] },
    pinned: { repository: `${host}/team/app`, digest, tags: [] },
    requestsForDigest: 0,
    headOfTag: true,
    failures: [
      ['CP_IMAGE_UNRESOLVABLE', `cannot resolve "${host}/team/app:2.0"`],
      ['CP_IMAGE_UNRESOLVABLE', `cannot resolve "${host}/private/app:1.0"`],
      ['CP_IMAGE_UNRESOLVABLE', 'cannot resolve "Not A Reference"'],
    ],
    jobReference: `${host}/team/app@${digest}`,
  });
});
