import { CopaError } from '../errors.js';

/**
 * A normalised image reference: `registry/repository[:tag][@digest]`. Docker Hub references use
 * the registry `docker.io` and, for official images, the `library/` namespace.
 */
export interface Reference {
  /** Host and optional port, as written (`docker.io`, `localhost:5000`, `[::1]:5000`). */
  readonly registry: string;
  /** The repository path inside the registry, lower case (`library/nginx`). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export interface ParseReferenceOptions {
  /**
   * Tag given to a reference that has neither tag nor digest; `false` leaves it without one.
   * Default `latest`.
   */
  defaultTag?: string | false;
}

/** The registry name Docker gives references without a registry. */
export const DOCKER_HUB_REGISTRY = 'docker.io';

/** The host serving Docker Hub's registry API. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

// Grammar of distribution's reference package, written out again:
// https://github.com/distribution/reference/blob/v0.6.0/regexp.go
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainRe = new RegExp(
  `^(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})(?::[0-9]+)?$`,
);
const pathComponentRe = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const digestHexLength: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const maxNameLength = 255;

const tagHint =
  'A tag has at most 128 letters, digits, "_", "." or "-", and does not start with "." or "-".';
const digestHint = 'Write a digest as "sha256:" followed by 64 lower-case hex digits.';
const repositoryHint =
  'Repository path components are lower-case letters and digits, joined by ".", "_", "__" or "-".';

/**
 * Parses an image reference the way Docker does, and normalises it: `nginx` becomes
 * `docker.io/library/nginx:latest`, `index.docker.io` becomes `docker.io`.
 *
 * @throws {CopaError} `REFERENCE_INVALID`, with a hint, when `input` is not a valid reference.
 * @example
 * parseReference('127.0.0.1:5000/app:1.2');
 * // { registry: '127.0.0.1:5000', repository: 'app', tag: '1.2' }
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): Reference {
  const fail = (reason: string, hint: string): never => {
    throw new CopaError('REFERENCE_INVALID', `parsing reference "${input}": ${reason}`, { hint });
  };
  if (input.trim() !== input || input === '') {
    fail(
      'empty or surrounded by spaces',
      'Write a reference such as "docker.io/library/nginx:1.25".',
    );
  }

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) fail(problem, digestHint);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) {
      fail(`invalid tag "${tag}"`, tagHint);
    }
  }

  const { registry, repository } = splitName(rest, fail);
  if (tag === undefined && digest === undefined && options.defaultTag !== false) {
    tag = options.defaultTag ?? 'latest';
  }
  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest && { digest }) };
}

/** Like {@link parseReference}, but returns `undefined` instead of throwing. */
export function tryParseReference(
  input: string,
  options: ParseReferenceOptions = {},
): Reference | undefined {
  try {
    return parseReference(input, options);
  } catch {
    return undefined;
  }
}

type Fail = (reason: string, hint: string) => never;

function splitName(name: string, fail: Fail): { registry: string; repository: string } {
  if (name === '') fail('no repository name', 'Write a reference such as "nginx:1.25".');
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const hasDomain =
    slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  let registry = hasDomain ? first : DOCKER_HUB_REGISTRY;
  let repository = hasDomain ? name.slice(slash + 1) : name;
  if (registry === 'index.docker.io') registry = DOCKER_HUB_REGISTRY;
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes('/')) {
    repository = `library/${repository}`;
  }

  if (!domainRe.test(registry)) {
    fail(
      `invalid registry host "${registry}"`,
      'Write the registry as a host name or IP, optionally with ":PORT".',
    );
  }
  if (repository.toLowerCase() !== repository && repository.split('/').every(validLowerComponent)) {
    fail(`repository "${repository}" must be lower case`, `Use "${repository.toLowerCase()}".`);
  }
  if (!repository.split('/').every((c) => pathComponentRe.test(c))) {
    fail(`invalid repository name "${repository}"`, repositoryHint);
  }
  if (registry.length + 1 + repository.length > maxNameLength) {
    fail(`name longer than ${maxNameLength} characters`, 'Use a shorter repository name.');
  }
  return { registry, repository };
}

function validLowerComponent(component: string): boolean {
  return pathComponentRe.test(component.toLowerCase());
}

/** Returns why `digest` is not a valid content digest, or `undefined` when it is. */
export function digestProblem(digest: string): string | undefined {
  if (!digestRe.test(digest)) return `invalid digest "${digest}"`;
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = digestHexLength[algorithm];
  if (length === undefined) return `unsupported digest algorithm "${algorithm}"`;
  if (!/^[a-f0-9]+$/.test(hex) || hex.length !== length) {
    return `digest "${digest}" needs ${length} lower-case hex digits for ${algorithm}`;
  }
  return undefined;
}

/** The full normalised form, `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  return `${formatRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${
    ref.digest !== undefined ? `@${ref.digest}` : ''
  }`;
}

/** The repository without tag or digest, `registry/repository`. */
export function formatRepository(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * The short form Docker prints: Docker Hub's registry and `library/` are left out
 * (`docker.io/library/nginx:latest` is `nginx:latest`).
 */
export function familiarReference(ref: Reference): string {
  let name = formatRepository(ref);
  if (ref.registry === DOCKER_HUB_REGISTRY) {
    const path = ref.repository.startsWith('library/') ? ref.repository.slice(8) : ref.repository;
    name = path.includes('/') ? ref.repository : path;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${
    ref.digest !== undefined ? `@${ref.digest}` : ''
  }`;
}

/**
 * Returns a copy with `tag`, keeping any digest.
 * @throws {CopaError} `REFERENCE_INVALID` when `tag` is not a valid tag.
 */
export function withTag(ref: Reference, tag: string): Reference {
  if (!tagRe.test(tag)) {
    throw new CopaError('REFERENCE_INVALID', `setting tag "${tag}": invalid tag`, {
      hint: tagHint,
    });
  }
  return { ...ref, tag };
}

/**
 * Returns a copy pinned to `digest`, keeping any tag.
 * @throws {CopaError} `REFERENCE_INVALID` when `digest` is not a valid digest.
 */
export function withDigest(ref: Reference, digest: string): Reference {
  const problem = digestProblem(digest);
  if (problem !== undefined) {
    throw new CopaError('REFERENCE_INVALID', `setting digest: ${problem}`, {
      hint: digestHint,
    });
  }
  return { ...ref, digest };
}

/** Returns a copy with no tag and no digest: the repository alone. */
export function withoutVersion(ref: Reference): Reference {
  return { registry: ref.registry, repository: ref.repository };
}

/** The host that serves the registry API for `registry` (Docker Hub's is not `docker.io`). */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : registry;
}
