/**
 * OpenVEX v0.2.0 documents, as far as copa writes them. Field names are the spec's.
 * https://github.com/openvex/spec/blob/v0.2.0/OPENVEX-SPEC.md
 */

export const openVexContext = 'https://openvex.dev/ns/v0.2.0';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

export interface VexIdentifiers {
  readonly purl?: string;
}

export interface VexSubcomponent {
  readonly '@id': string;
  readonly identifiers?: VexIdentifiers;
}

export interface VexProduct {
  readonly '@id': string;
  readonly identifiers?: VexIdentifiers;
  readonly subcomponents?: readonly VexSubcomponent[];
}

export interface VexStatement {
  readonly vulnerability: { readonly name: string };
  readonly products: readonly VexProduct[];
  readonly status: VexStatus;
}

export interface VexDocument {
  readonly '@context': typeof openVexContext;
  readonly '@id': string;
  readonly author: string;
  readonly timestamp: string;
  readonly version: number;
  readonly tooling: string;
  readonly statements: readonly VexStatement[];
}
