/** Internal API for sibling packages (cli, worker) and tests. Not a contract. */
export * from './index.js';
export { defineAnalyzer, bufferContent, inputFromBuffer } from './analyzers/types.js';
