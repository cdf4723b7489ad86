/**
 * A read-only LevelDB reader that never opens a node's database with a LevelDB engine (and so never changes
 * it): CURRENT → MANIFEST → tables per level, journals replayed with goleveldb's rules, point lookups.
 */
export { crc32c, maskCrc, maskedCrc32c } from './crc32c.js'
export { LevelDbCorruptionError, UnsupportedLevelDbError } from './errors.js'
export {
  BYTEWISE_COMPARATOR,
  findManifest,
  type ManifestState,
  readManifest,
  type TableFileMeta,
} from './manifest.js'
export { openReadOnlyStore, type ReadOnlyStore, readBlockStoreState } from './readonly-store.js'
