/**
 * Local image sources: `docker save` archives (plain or gzipped), OCI image layouts (directory,
 * tar or gzipped tar), content detection and a dispatching opener. Each yields an ImageSource
 * whose layers open as stored (gzip, zstd or plain tar); the layer walker does the rest.
 */
export { openDockerArchive, type DockerArchiveOptions } from './docker-archive.js';
export { openOciLayout, type OciLayoutOptions } from './oci-layout.js';
export { detectLocalSource, openLocalImage, type LocalImageOptions, type LocalSourceKind } from './detect.js';
export { indexTar, type TarEntry, type TarIndex } from './tar-index.js';
