export { CopaError, isCopaError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Logger } from './log.js';
