/**
 * Docker-style image references: `alpine`, `alpine:3.19`, `localhost:5000/x/y:tag`,
 * `ghcr.io/o/r@sha256:…`, `name:tag@sha256:…`.
 *
 * Grammar: https://github.com/distribution/reference/blob/main/reference.go (the `docker.io`
 * default domain and the `library/` prefix for official images follow normalize.go there).
 */
import { EngineError } from '../../errors.js';
import { isSupportedDigest } from './digest.js';

/** Display and credential key of Docker Hub. */
export const DOCKER_HUB_DOMAIN = 'docker.io';
/** Host actually serving the Docker Hub registry API. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

export interface ImageReference {
  /** Display and credential key: `docker.io`, `ghcr.io`, `localhost:5000` (lower case). */
  readonly domain: string;
  /** Host[:port] the registry API is served from (`registry-1.docker.io` for `docker.io`). */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `library/alpine`. */
  readonly repository: string;
  /** Tag; `latest` when the reference names neither a tag nor a digest. */
  readonly tag?: string;
  /** Manifest digest (`sha256:<64 hex>` or `sha512:<128 hex>`). */
  readonly digest?: string;
  /** Fully qualified form, e.g. `docker.io/library/alpine:3.19`. */
  readonly canonical: string;
  /** Repository as the docker CLI shows it (`alpine`, `ghcr.io/o/r`). */
  readonly familiarRepository: string;
}

const NAME_TOTAL_MAX = 255;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]{1,5})?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^\w[\w.-]{0,127}$/;

function invalid(ref: string, why: string): EngineError {
  return new EngineError('ENG_IMAGE_REF_INVALID', `invalid image reference "${ref}": ${why}`);
}

/**
 * Parses a docker-style reference. Without a domain the image is on Docker Hub
 * (`docker.io`, served by `registry-1.docker.io`) and one-component names get `library/`.
 * Without tag and digest the tag is `latest`.
 *
 * @throws EngineError ENG_IMAGE_REF_INVALID when the text is not a valid reference
 *   (empty, upper-case repository, bad tag or digest, name longer than 255 characters).
 */
export function parseReference(ref: string): ImageReference {
  if (typeof ref !== 'string' || ref.length === 0) throw invalid(String(ref), 'empty');
  if (ref.length > 2048) throw invalid(ref.slice(0, 64) + '…', 'too long');
  if (/\s/.test(ref)) throw invalid(ref, 'contains whitespace');
  if (ref.includes('://')) throw invalid(ref, 'a reference has no scheme (drop "http://" or "https://")');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isSupportedDigest(digest))
      throw invalid(ref, `bad digest "${digest}" (expected sha256:<64 hex> or sha512:<128 hex>)`);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(ref, `bad tag "${tag}"`);
  }
  if (rest.length === 0) throw invalid(ref, 'missing repository');
  if (rest.length > NAME_TOTAL_MAX) throw invalid(ref, `name longer than ${NAME_TOTAL_MAX} characters`);

  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DOCKER_HUB_DOMAIN;
    path = rest;
  } else {
    domain = first.toLowerCase();
    path = rest.slice(slash + 1);
    if (!DOMAIN_RE.test(first)) throw invalid(ref, `bad registry host "${first}"`);
    const port = /:(\d+)$/.exec(first)?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
      throw invalid(ref, `bad port "${port}"`);
  }
  if (domain === 'index.docker.io' || domain === DOCKER_HUB_REGISTRY) domain = DOCKER_HUB_DOMAIN;
  if (domain === DOCKER_HUB_DOMAIN && !path.includes('/')) path = `library/${path}`;

  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      const why =
        component.toLowerCase() !== component
          ? 'repository name must be lowercase'
          : `bad path component "${component}"`;
      throw invalid(ref, why);
    }
  }

  if (tag === undefined && digest === undefined) tag = 'latest';
  const registry = domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_REGISTRY : domain;
  const canonical = `${domain}/${path}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  let familiarRepository = domain === DOCKER_HUB_DOMAIN ? path : `${domain}/${path}`;
  if (domain === DOCKER_HUB_DOMAIN && path.startsWith('library/') && path.split('/').length === 2) {
    familiarRepository = path.slice('library/'.length);
  }
  return {
    domain,
    registry,
    repository: path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    canonical,
    familiarRepository,
  };
}
