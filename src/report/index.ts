/**
 * Scanner reports in, normalised update manifests out: one parser per format (Trivy, Grype,
 * Copa's update manifest, scanner plugins), each producing an {@link UpdateManifest}.
 */
export type * from './types.js';
export { readReport, builtInScanners, type ReadReportOptions } from './read-report.js';
export { readReports } from './read-reports.js';
export { parseTrivyReport, isTrivyDocument } from './trivy.js';
export type { ParseReportOptions } from './parse-report-options.js';
export { parseGrypeReport, isGrypeDocument } from './grype.js';
export {
  parseUpdateManifest,
  isUpdateManifestDocument,
  updateManifestApiVersions,
  type ParseUpdateManifestOptions,
} from './native.js';
export {
  runScannerPlugin,
  isValidScannerName,
  type RunScannerPluginOptions,
} from './run-scanner-plugin.js';
export { normalizeOsFamily, tryNormalizeOsFamily } from './os-family.js';
export { chooseFixedVersion, splitFixedVersions } from './fixed-version.js';
export {
  buildUpdateManifest,
  type OsFinding,
  type BuildUpdateManifestInput,
} from './build-update-manifest.js';
export { platformFromFileName } from './platform-from-file-name.js';
export {
  toUpdateManifestDocument,
  type UpdateManifestDocument,
  type UpdateManifestEntry,
} from './to-update-manifest-document.js';
