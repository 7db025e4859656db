import { createHash } from 'node:crypto';

import type { Platform } from '../image/index.js';
import type { OsFamily } from '../report/index.js';
import { imagePurl, packagePurl } from './package-purl.js';
import { openVexContext, type VexDocument, type VexProduct, type VexStatement } from './types.js';

/** The author Copa names by default; `COPA_VEX_AUTHOR` overrides it ({@link vexAuthorFromEnv}). */
export const defaultVexAuthor = 'Project Copacetic';
export const vexTooling = 'Project Copacetic';

/** A package the patch brought to a new version. Failed packages are left out by the caller. */
export interface VexUpdatedPackage {
  readonly name: string;
  /** The version now installed. */
  readonly installedVersion: string;
  readonly arch?: string;
  readonly vulnerabilityIds: readonly string[];
}

/** What was patched on one platform. */
export interface VexPlatformResult {
  readonly platform: Platform;
  readonly os: { readonly family: OsFamily; readonly version: string };
  readonly imageRef: {
    /** Registry and repository, `ghcr.io/acme/nginx`. */
    readonly repositoryUrl: string;
    /** The repository's last path segment, `nginx`. */
    readonly name: string;
  };
  /** Digest of the patched image manifest. */
  readonly manifestDigest: string;
  readonly updated: readonly VexUpdatedPackage[];
}

export interface BuildVexDocumentInput {
  readonly results: readonly VexPlatformResult[];
  /** Digest of the patched index, for a multi-platform image. */
  readonly indexDigest?: string;
  readonly author?: string;
  readonly now?: Date;
  /** Returns the document's `@id` from its content; a content hash by default. */
  readonly idGenerator?: (content: Omit<VexDocument, '@id'>) => string;
}

/** The VEX author: `COPA_VEX_AUTHOR` when set and not empty, else {@link defaultVexAuthor}. */
export function vexAuthorFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  return env.COPA_VEX_AUTHOR?.trim() || defaultVexAuthor;
}

/**
 * Builds the OpenVEX document of a patch: one `fixed` statement per vulnerability an updated
 * package closed. Its products are the patched image manifests (`pkg:oci/<name>@<digest>`) of the
 * platforms where it was closed, plus the index when one is given, each with the updated
 * packages as subcomponents. Statements, products and subcomponents are sorted, so equal input
 * gives equal documents apart from `timestamp` and `@id`.
 *
 * Returns `undefined` when no vulnerability was fixed: an OpenVEX document needs a statement.
 */
export function buildVexDocument(input: BuildVexDocumentInput): VexDocument | undefined {
  const byVulnerability = new Map<string, Map<string, Set<string>>>();
  for (const result of input.results) {
    const product = imagePurl({
      name: result.imageRef.name,
      digest: result.manifestDigest,
      repositoryUrl: result.imageRef.repositoryUrl,
    });
    for (const pkg of result.updated) {
      const purl = subcomponentPurl(result, pkg);
      for (const id of pkg.vulnerabilityIds.filter((v) => v.trim() !== '')) {
        const products = getOrCreate(byVulnerability, id, () => new Map<string, Set<string>>());
        getOrCreate(products, product, () => new Set<string>()).add(purl);
      }
    }
  }
  if (byVulnerability.size === 0) return undefined;

  const indexPurl = indexProductPurl(input);
  const statements = [...byVulnerability.keys()].sort(compareText).map((id) => {
    const products = byVulnerability.get(id)!;
    if (indexPurl !== undefined) {
      products.set(indexPurl, new Set([...products.values()].flatMap((s) => [...s])));
    }
    return toStatement(id, products);
  });
  const content: Omit<VexDocument, '@id'> = {
    '@context': openVexContext,
    author: input.author?.trim() || defaultVexAuthor,
    timestamp: (input.now ?? new Date()).toISOString(),
    version: 1,
    tooling: vexTooling,
    statements,
  };
  const id = (input.idGenerator ?? contentId)(content);
  const { '@context': context, ...rest } = content;
  return { '@context': context, '@id': id, ...rest };
}

function subcomponentPurl(result: VexPlatformResult, pkg: VexUpdatedPackage): string {
  return packagePurl({
    family: result.os.family,
    osVersion: result.os.version,
    name: pkg.name,
    version: pkg.installedVersion,
    ...(pkg.arch ? { arch: pkg.arch } : {}),
    platform: result.platform,
  });
}

/** The index product, named like the first platform's image. */
function indexProductPurl(input: BuildVexDocumentInput): string | undefined {
  const first = input.results[0];
  if (input.indexDigest === undefined || first === undefined) return undefined;
  return imagePurl({
    name: first.imageRef.name,
    digest: input.indexDigest,
    repositoryUrl: first.imageRef.repositoryUrl,
  });
}

function toStatement(id: string, products: ReadonlyMap<string, ReadonlySet<string>>): VexStatement {
  const list: VexProduct[] = [...products.keys()].sort(compareText).map((purl) => ({
    '@id': purl,
    subcomponents: [...products.get(purl)!].sort(compareText).map((sub) => ({ '@id': sub })),
  }));
  return { vulnerability: { name: id }, products: list, status: 'fixed' };
}

/** `https://openvex.dev/docs/public/vex-<sha256 of the content>`, the go-vex convention. */
function contentId(content: Omit<VexDocument, '@id'>): string {
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
  return `https://openvex.dev/docs/public/vex-${hash}`;
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
