export * from './types.js';
export * from './compression.js';
export * from './file-layer.js';
export * from './write-layer.js';
export * from './read-merged-files.js';
export * from './tar-entries.js';
export * from './tar-header.js';
export * from './indexed-layers-file-tree.js';
