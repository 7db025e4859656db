export * from './types.js';
export * from './digest.js';
export * from './platform.js';
