/**
 * @vigil/worker: the scan worker runtime (ARCHITECTURE §4). `runWorker` pulls scan jobs from a
 * JobSource, runs the engine and streams each attempt's inventory and findings to the control
 * plane's WorkerService over gRPC, with bounded concurrency, cancellation and draining.
 */
export {
  runWorker,
  type WorkerOptions,
  type WorkerHandle,
  type WorkerRegistryOptions,
} from './run-worker.js';
export type { WorkerMetrics } from './metrics.js';
export { createWorkerLogger, REDACT_PATHS, type WorkerLoggerOptions } from './logger.js';
export { WorkerError, isWorkerError, WORKER_ERROR_CODES, type WorkerErrorCode } from './errors.js';
export { classifyFailure, RETRYABLE_ENGINE_CODES, type Failure } from './jobs/failure.js';
export type { Disposition, JobOutcome, JobStop } from './jobs/types.js';
export type { JobSource, JobDelivery, ScanJob, CancelSignal, JobPriority } from './queue/types.js';
