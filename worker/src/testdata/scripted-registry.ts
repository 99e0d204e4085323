/**
 * Test registry: serves one real image (the realdata alpine docker-archive's config and layer,
 * the layer gzipped) under `/v2/alpine/` through the loopback HTTP harness, with hooks to answer
 * manifests with an error status or to hold the layer download halfway until a gate opens (a slow
 * registry: the scan is then mid-download, and only an abort ends it early).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';
import { startHttpServer, type ScriptedServer } from '../../../test/harness/http-server.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface ScriptedRegistry {
  server: ScriptedServer;
  /** `<host>/alpine@<manifest digest>` */
  ref: string;
  host: string;
  /** manifests answer this status instead (e.g. 503), when set */
  manifestStatus: number | undefined;
  /** when set, layer downloads send half the blob, then wait for it */
  layerGate: Promise<void> | undefined;
  /** layer downloads that reached the gate */
  layerRequests: number;
  stop(): Promise<void>;
}

async function readDockerArchive(path: string): Promise<{ config: Buffer; layer: Buffer }> {
  const files = new Map<string, Buffer>();
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks));
        next();
      });
      stream.resume();
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  Readable.from([gunzipSync(await readFile(path))]).pipe(tar);
  await done;
  const [entry] = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; Layers: string[] }[];
  return { config: files.get(entry!.Config)!, layer: files.get(entry!.Layers[0]!)! };
}

export async function startScriptedRegistry(dockerArchive: string): Promise<ScriptedRegistry> {
  const { config, layer: plainLayer } = await readDockerArchive(dockerArchive);
  const layer = gzipSync(plainLayer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          digest: sha(layer),
          size: layer.length,
        },
      ],
    }),
  );
  const registry: ScriptedRegistry = {
    server: undefined as unknown as ScriptedServer,
    ref: '',
    host: '',
    manifestStatus: undefined,
    layerGate: undefined,
    layerRequests: 0,
    stop: () => registry.server.stop(),
  };
  registry.server = await startHttpServer(async (req, res) => {
    const path = req.url ?? '';
    if (path === '/v2/' || path === '/v2') {
      res.end('{}');
    } else if (path.startsWith('/v2/alpine/manifests/')) {
      if (registry.manifestStatus) {
        res.writeHead(registry.manifestStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'scripted failure' }] }));
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
        'docker-content-digest': sha(manifest),
        'content-length': manifest.length,
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
    } else if (path === `/v2/alpine/blobs/${sha(config)}`) {
      res.end(config);
    } else if (path === `/v2/alpine/blobs/${sha(layer)}`) {
      res.writeHead(200, { 'content-length': layer.length, 'content-type': 'application/octet-stream' });
      const gate = registry.layerGate;
      if (gate) {
        const half = Math.floor(layer.length / 2);
        res.write(layer.subarray(0, half));
        registry.layerRequests++;
        await gate;
        res.end(layer.subarray(half));
      } else res.end(layer);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'unknown' }] }));
    }
  });
  registry.host = registry.server.host;
  registry.ref = `${registry.host}/alpine@${sha(manifest)}`;
  return registry;
}
