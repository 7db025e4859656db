export { RegistryClient, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './registry-client.js';
export type { ManifestResult, RegistryClientOptions } from './registry-client.js';
export type { PushBlobOptions } from './blob-upload.js';
export type { RepositoryName } from './registry-http.js';
export { RegistryError, redactUrl } from './registry-error.js';
export type { RegistryErrorDetails } from './registry-error.js';
export {
  anonymousKeychain,
  dockerConfigKeychain,
  runCredentialHelper,
  staticKeychain,
} from './keychain.js';
export type { Credential, DockerConfigKeychainOptions, Keychain } from './keychain.js';
export { DEFAULT_DOCKER_CERTS_D, isLoopbackHost } from './transport.js';
export type { RetryPolicy } from './retry.js';
export { digestOf, verifyStream } from './verify-stream.js';
export { mapLimit } from './limiter.js';
