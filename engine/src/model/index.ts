export * from './package.js';
export * from './os.js';
export * from './unknown.js';
export * from './scan.js';
export * from './severity.js';
export * from './vulnerability.js';
export * from './finding.js';
