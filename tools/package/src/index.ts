/**
 * @ghostfleet/package — release tooling behind `npm run package`.
 *
 * - `packageRelease` (package-release.ts): bundle → one SEA executable per target → `SHA256SUMS`.
 * - `bundle` (bundle.ts): the CLI as one CommonJS file, LevelDB's addon routed to the SEA asset.
 * - `makeSea` (sea.ts): blob + postject into the target's official node binary (node-binary.ts fetches it).
 * - runtime/embedded-addon.ts: runs inside the executable; writes the addon to a private cache and dlopens it.
 */
export { ADDON_ASSET, type BundleOptions, type BundleResult, bundle } from './bundle.js'
export { sha256File, writeChecksums } from './checksums.js'
export { nodeBinary } from './node-binary.js'
export { type Artifact, type PackageOptions, type PackageResult, packageRelease } from './package-release.js'
export { addonCacheCandidates } from './runtime/embedded-addon.js'
export { makeSea, type SeaOptions } from './sea.js'
export { TARGETS, type Target, targetNamed } from './targets.js'
