/** Shared assembly of local ImageSource objects. */
import { EngineError, throwIfAborted } from '../../errors.js';
import type { ImageSource, LayerDescriptor } from '../types.js';
import type { BlobStore } from './blob-store.js';
import { abortable, verifyingStream } from './digest.js';

/** Fields of an ImageSource except close(), which `makeSource` builds from `cleanup`. */
export type SourceFields = Omit<ImageSource, 'close'>;

/**
 * Adds an idempotent close() that runs `cleanup` once; a layer opened after close() fails with
 * ENG_INVALID_ARGUMENT (its bytes may live in the removed temp copy).
 */
export function makeSource(fields: SourceFields, cleanup: () => Promise<void>): ImageSource {
  let closing: Promise<void> | undefined;
  const layers = fields.layers.map((layer) => ({
    ...layer,
    open: (signal?: AbortSignal) => {
      if (closing)
        return Promise.reject(
          new EngineError('ENG_INVALID_ARGUMENT', `${fields.name}: image source is closed`),
        );
      return layer.open(signal);
    },
  }));
  return { ...fields, layers, close: () => (closing ??= cleanup()) };
}

/**
 * A layer stored as the file `name` of `store`. open() fails with `onMissing()` when the file is
 * absent; with `verify`, the stream fails with ENG_DIGEST_MISMATCH at its end on a bad digest.
 */
export function storedLayer(
  store: BlobStore,
  name: string,
  fields: Omit<LayerDescriptor, 'open'>,
  options: { verify: boolean; onMissing: () => Error },
): LayerDescriptor {
  return {
    ...fields,
    async open(signal?: AbortSignal) {
      throwIfAborted(signal);
      if ((await store.size(name)) === undefined) throw options.onMissing();
      const raw = await store.open(name);
      const stream = options.verify
        ? verifyingStream(raw, fields.digest, `${store.label}: layer ${fields.digest}`)
        : raw;
      return abortable(stream, signal);
    },
  };
}
