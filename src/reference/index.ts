export {
  DOCKER_HUB_API_HOST,
  DOCKER_HUB_REGISTRY,
  digestProblem,
  familiarReference,
  formatReference,
  formatRepository,
  parseReference,
  registryApiHost,
  tryParseReference,
  withDigest,
  withTag,
  withoutVersion,
} from './reference.js';
export type { ParseReferenceOptions, Reference } from './reference.js';
