/** @vigil/worker: the scan worker (see worker/README or ARCHITECTURE §4). */
export {};
