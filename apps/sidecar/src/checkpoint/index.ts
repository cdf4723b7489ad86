/**
 * Checkpoints of a node's data directory, for bootstrapping a new host from a sibling's pruned window (issue 14).
 * A library: the donation scheduling (tracker), the transfer (peer link) and the `bootstrap` command build on it.
 *
 * Donor side:
 * - {@link takeCheckpoint}: with the node stopped, hard-links the LevelDB tables and copies the mutable files into
 *   `<checkpointsDir>/<id>/data/`, leaving out keys, signing state, node key, address book and node-local files
 *   (file-rules.ts). Quick: this is what the node's downtime pays for.
 * - {@link sealCheckpoint}: afterwards, with the node serving again, hashes every file and writes the signed
 *   manifest (chain id, heights, block hashes at both ends, app hashes, files with size and sha256).
 * - {@link servedFilePath}: the only files a donor serves for a checkpoint are those its manifest lists;
 * - {@link measureCheckpoints}: the bytes checkpoints pin after the node's compaction deleted its tables (a metric);
 *   {@link enforcePinnedCap} keeps them under a cap; {@link removeCheckpoint} / {@link removeExpiredCheckpoints}: removal after the transfer or a TTL.
 *
 * Receiving side:
 * - {@link verifyManifest}: parse (zod, bounded) and check the fleet-key signature;
 * - {@link planReuse} + {@link linkReusable}: which table files an older checkpoint of the same donor already
 *   provides, and which to fetch;
 * - {@link downloadState}: what an interrupted download already has, and the offset to resume each file at;
 *   {@link openForDownload} writes there without touching a node's table that shares the file's inode;
 * - {@link verifyCheckpointFile} per downloaded file, {@link verifyCheckpointFiles} for all;
 * - {@link installCheckpoint}: atomic install into the node home (refuses data already there unless `force`,
 *   a running node, another chain, too little space); on failure the home is as it was.
 *
 * ```ts
 * // donor, node stopped by the caller:
 * const taken = await takeCheckpoint({ home, checkpointsDir: '/var/lib/ghostfleet/checkpoints' })
 * // …restart the node, then:
 * const { manifest } = await sealCheckpoint({ dir: taken.dir, fleetKey, donor: sidecarId })
 *
 * // new host, after downloading the manifest text and the files into `download/data/`:
 * const verified = verifyManifest(manifestText, fleetKey)
 * await installCheckpoint({ home, sourceDataDir: 'download/data', manifest: verified })
 * ```
 */
export {
  type ChainFacts,
  readChainFacts,
} from './chain-facts.js'
export {
  type DownloadState,
  downloadState,
  openForDownload,
  servedFilePath,
} from './download-state.js'
export {
  CheckpointFileError,
  CheckpointInstallError,
  CheckpointManifestError,
  CheckpointRefusedError,
  DownloadResumeError,
  type FileProblem,
  type ManifestRejectCode,
} from './errors.js'
export { hashFile } from './file-hash.js'
export {
  type FileAction,
  fileAction,
  isNeverShared,
  isTableFile,
  NEVER_SHARED,
  NODE_LOCAL_TOP_LEVEL,
} from './file-rules.js'
export {
  type InstallCheckpointOptions,
  type InstallCheckpointResult,
  installCheckpoint,
  recoverInterruptedInstall,
} from './install.js'
export {
  CHECKPOINT_DATA_DIR,
  CHECKPOINT_ID_PATTERN,
  MANIFEST_FILE,
  TAKE_RECORD_FILE,
} from './layout.js'
export {
  type CheckpointManifest,
  canonicalManifestPayload,
  formatManifest,
  MANIFEST_FORMAT,
  MAX_MANIFEST_FILES,
  type ManifestFile,
  manifestSchema,
  signManifest,
  type UnsignedManifest,
  type VerifiedManifest,
  verifyManifest,
} from './manifest.js'
export {
  type CheckpointsUsage,
  type CheckpointUsage,
  enforcePinnedCap,
  measureCheckpoints,
  removeCheckpoint,
  removeExpiredCheckpoints,
} from './retention.js'
export { linkReusable, type PlanReuseOptions, planReuse, type ReusePlan } from './reuse.js'
export {
  readSealedManifest,
  type SealCheckpointOptions,
  type SealCheckpointResult,
  sealCheckpoint,
} from './seal.js'
export {
  type TakeCheckpointOptions,
  type TakeCheckpointResult,
  takeCheckpoint,
} from './take.js'
export { verifyCheckpointFile, verifyCheckpointFiles } from './verify.js'
