import { CopaError } from '../errors.js';

/** The report lists OS-package findings but does not say which OS they belong to. */
export function missingOsError(source: string, field: string): CopaError {
  return new CopaError(
    'REPORT_INVALID',
    `reading report "${source}": it lists OS package findings but names no OS ` +
      `(${field} is missing)`,
    { hint: 'Scan the image again with a current scanner version, which records the OS.' },
  );
}

/** The report names no OS at all: nothing copa can patch. */
export function noOsError(source: string): CopaError {
  return new CopaError(
    'OS_UNSUPPORTED',
    `reading report "${source}": the report names no operating system`,
    {
      hint:
        'copa patches the OS packages of container images: ' +
        'scan an image (for example with `trivy image -f json`).',
    },
  );
}
