/**
 * Image sources: a registry reference, a docker-archive, an OCI layout or a root filesystem.
 * Every layered source resolves to the same shape: the image config and an ordered list of
 * layers that can be opened as byte streams.
 */
import type { Readable } from 'node:stream';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The parts of an OCI / Docker image config Vigil reads (the rest is kept as is). */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: { Env?: string[]; Labels?: Record<string, string> | null; [key: string]: unknown };
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
  [key: string]: unknown;
}

export interface LayerDescriptor {
  /** Uncompressed digest (config rootfs.diff_ids): the layer's identity and cache key. */
  diffId: string;
  /**
   * Blob digest as stored (compressed); equal to diffId for uncompressed layers; '' when the source
   * does not record it (a compressed layer in a docker-archive without LayerSources).
   */
  digest: string;
  /** Media type from the manifest (empty when the source has none, e.g. old docker-archives). */
  mediaType: string;
  /** Stored (compressed) size when known. */
  size?: number;
  /**
   * Opens the blob as stored (gzip, zstd or plain tar). Registry sources verify the blob
   * digest while streaming and fail the stream with ENG_DIGEST_MISMATCH at its end.
   */
  open(signal?: AbortSignal): Promise<Readable>;
}

export interface ImageSource {
  /** Source kind, for reports and logs. */
  readonly kind: 'registry' | 'docker-archive' | 'oci-layout' | 'rootfs';
  /** What the user named (reference or path). */
  readonly name: string;
  /** Manifest digest when the source has one (registry, OCI layout). */
  readonly digest?: string;
  readonly repoTags: string[];
  readonly repoDigests: string[];
  /** Image config; undefined for rootfs sources. */
  readonly config?: ImageConfig;
  readonly configDigest?: string;
  /** Layers bottom-up; empty for rootfs sources. */
  readonly layers: LayerDescriptor[];
  /** For rootfs sources: the directory to walk. */
  readonly rootDir?: string;
  /** Releases temp files and connections. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** Parses `os/arch[/variant]` (e.g. `linux/arm64/v8`). */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new TypeError(`invalid platform "${text}": expected os/arch[/variant]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}
