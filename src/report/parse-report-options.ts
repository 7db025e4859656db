import type { Logger } from '../log.js';

/** Options of the format parsers. */
export interface ParseReportOptions {
  /** The file the document was read from, named in errors. */
  readonly source: string;
  readonly logger?: Logger;
}
