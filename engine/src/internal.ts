/** Internal API for sibling packages (cli, worker, control plane) and tests. Not a contract. */
export * from './index.js';
export { defineAnalyzer, bufferContent, inputFromBuffer } from './analyzers/types.js';
export {
  openRegistryImage,
  headRegistryManifest,
  parseReference,
  type ImageReference,
  type RegistryImageOptions,
} from './image/registry/index.js';
export {
  openDockerArchive,
  openOciLayout,
  openLocalImage,
  detectLocalSource,
} from './image/archive/index.js';
export { openRootfs } from './image/rootfs/index.js';
export { walkLayer, type WalkLayerOptions } from './image/walk/walk-layer.js';
export { walkDirectory, type WalkDirectoryOptions } from './image/walk/walk-directory.js';
export type { LayerAnalysis, FileAnalysis, WalkLimits } from './image/walk/types.js';
export { layerCacheKey } from './cache/types.js';
export { mergeLayers } from './scan/merge.js';
export { toJsonReport, toSpdx } from './report/index.js';
export { toCycloneDx } from './report/cyclonedx.js';
