export * from './types.js';
export * from './platform.js';
