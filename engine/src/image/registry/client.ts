/**
 * Registry API v2 calls for one repository (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
 * manifests by tag or digest, blobs read whole (config) or streamed (layers), each verified
 * against its digest. Every call goes through the 401 → challenge → retry dance once.
 */
import type { Readable } from 'node:stream';
import { EngineError } from '../../errors.js';
import { RegistryAuth } from './auth.js';
import type { CredentialSources } from './credentials.js';
import { digestOf, isSupportedDigest, verifyBytes, VerifyingStream } from './digest.js';
import { transportError } from './http-errors.js';
import { failure, header, readBody, send, type SendResult, type Transport } from './http.js';
import { MANIFEST_ACCEPT, type Descriptor } from './manifest.js';
import type { ImageReference } from './reference.js';

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string | undefined;
  /** Digest of the bytes (verified against the expected digest and Docker-Content-Digest). */
  digest: string;
}

export class RegistryClient {
  readonly origin: string;
  readonly #auth: RegistryAuth;

  constructor(
    readonly ref: ImageReference,
    private readonly transport: Transport,
    sources: CredentialSources,
  ) {
    const insecure = transport.isInsecure(ref.registry) || transport.isInsecure(ref.domain);
    this.origin = `${insecure ? 'http' : 'https'}://${ref.registry}`;
    this.#auth = new RegistryAuth(
      transport,
      { origin: this.origin, domain: ref.domain, repository: ref.repository },
      sources,
    );
  }

  /** Names a request in messages: `manifest "3.19" of docker.io/library/alpine`. */
  subject(what: string): string {
    return `${what} of ${this.ref.domain}/${this.ref.repository}`;
  }

  /** GET/HEAD `/v2/<repo>/<path>`; answers a 401 challenge once. @throws EngineError for non-2xx answers. */
  async call(
    path: string,
    init: { method: 'GET' | 'HEAD'; accept?: string; subject: string; signal?: AbortSignal },
  ): Promise<SendResult> {
    const url = new URL(`/v2/${this.ref.repository}/${path}`, this.origin);
    const attempt = (authorization: string | undefined) =>
      send(this.transport, {
        method: init.method,
        url,
        headers: init.accept ? { accept: init.accept } : {},
        ...(authorization !== undefined ? { authorization, authOrigin: this.origin } : {}),
        subject: init.subject,
        ...(init.signal ? { signal: init.signal } : {}),
      });
    const used = this.#auth.authorization;
    let res = await attempt(used);
    if (res.status === 401) {
      const refused = await failure(res, init.subject);
      if (!(await this.#auth.answer(res.headers['www-authenticate'], used))) throw refused;
      res = await attempt(this.#auth.authorization);
    }
    if (res.status < 200 || res.status >= 300) throw await failure(res, init.subject);
    return res;
  }

  /**
   * Fetches a manifest by tag or digest, at most `cap` bytes.
   * @param expected - the descriptor or reference digest the bytes must match.
   * @throws EngineError ENG_IMAGE_MANIFEST_TOO_LARGE, ENG_DIGEST_MISMATCH, registry errors.
   */
  async manifest(
    reference: string,
    cap: number,
    expected?: { digest: string; size?: number },
  ): Promise<FetchedManifest> {
    const subject = this.subject(`manifest "${reference}"`);
    const res = await this.call(`manifests/${reference}`, {
      method: 'GET',
      accept: MANIFEST_ACCEPT,
      subject,
    });
    const bytes = await readBody(
      res,
      cap,
      subject,
      () => new EngineError('ENG_IMAGE_MANIFEST_TOO_LARGE', `${subject}: larger than ${cap} bytes`),
    );
    if (expected) verifyBytes(bytes, expected.digest, expected.size, subject);
    const announced = header(res, 'docker-content-digest');
    const digest = expected?.digest ?? digestOf(bytes);
    if (isSupportedDigest(announced) && digestOf(bytes, announced) !== announced) {
      throw new EngineError(
        'ENG_DIGEST_MISMATCH',
        `${subject}: Docker-Content-Digest says ${announced}, the content is ${digestOf(bytes, announced)}`,
      );
    }
    return { bytes, contentType: header(res, 'content-type'), digest };
  }

  /** HEAD of a manifest: its digest (Docker-Content-Digest), media type and size, without the body. */
  async headManifest(
    reference: string,
  ): Promise<{ digest: string | undefined; contentType: string | undefined; size: number | undefined }> {
    const subject = this.subject(`manifest "${reference}"`);
    const res = await this.call(`manifests/${reference}`, {
      method: 'HEAD',
      accept: MANIFEST_ACCEPT,
      subject,
    });
    await res.body.dump().catch(() => undefined);
    const announced = header(res, 'docker-content-digest');
    const size = Number(header(res, 'content-length'));
    return {
      digest: isSupportedDigest(announced) ? announced : undefined,
      contentType: header(res, 'content-type'),
      size: Number.isSafeInteger(size) ? size : undefined,
    };
  }

  /** Reads the config blob whole (at most `cap` bytes; more is ENG_IMAGE_CONFIG_INVALID) and verifies it. */
  async configBytes(descriptor: Descriptor, cap: number): Promise<Buffer> {
    const subject = this.subject(`config ${descriptor.digest}`);
    const res = await this.call(`blobs/${descriptor.digest}`, { method: 'GET', subject });
    const bytes = await readBody(
      res,
      cap,
      subject,
      () => new EngineError('ENG_IMAGE_CONFIG_INVALID', `${subject}: larger than ${cap} bytes`),
    );
    verifyBytes(bytes, descriptor.digest, descriptor.size, subject);
    return bytes;
  }

  /**
   * Streams a blob as stored. The stream fails with ENG_DIGEST_MISMATCH at its end when the
   * content does not match, ENG_REGISTRY_TIMEOUT when the body stalls, ENG_ABORTED on abort.
   */
  async openBlob(descriptor: Descriptor, signal?: AbortSignal): Promise<Readable> {
    const subject = this.subject(`layer ${descriptor.digest}`);
    const res = await this.call(`blobs/${descriptor.digest}`, {
      method: 'GET',
      subject,
      ...(signal ? { signal } : {}),
    });
    const out = new VerifyingStream(descriptor.digest, descriptor.size, subject);
    const body = res.body;
    body.on('error', (error) => out.destroy(transportError(error, subject, res.signal)));
    out.on('close', () => {
      if (!body.destroyed) body.destroy();
    });
    body.pipe(out);
    return out;
  }
}
