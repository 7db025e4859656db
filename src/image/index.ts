export * from './types.js';
export * from './build-index.js';
export * from './digest.js';
export * from './memory-image.js';
export * from './mutate.js';
export * from './parse-manifest.js';
export * from './platform.js';
