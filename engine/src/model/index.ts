export * from './package.js';
export * from './os.js';
export * from './unknown.js';
export * from './scan.js';
