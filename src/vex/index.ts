/** OpenVEX documents that state which vulnerabilities a patch fixed. */
export * from './types.js';
export {
  buildVexDocument,
  defaultVexAuthor,
  vexAuthorFromEnv,
  vexTooling,
  type BuildVexDocumentInput,
  type VexPlatformResult,
  type VexUpdatedPackage,
} from './build-vex-document.js';
export { fixedPackages } from './fixed-packages.js';
export { writeVexDocument } from './write-vex-document.js';
export {
  packagePurl,
  imagePurl,
  type PackagePurlInput,
  type ImagePurlInput,
} from './package-purl.js';
