/**
 * A LevelDB file that cannot be read as LevelDB wrote it (bad checksum, truncated block, impossible length, a
 * MANIFEST that does not name its comparator …). Names the file so an operator knows where to look.
 */
export class LevelDbCorruptionError extends Error {
  override readonly name = 'LevelDbCorruptionError'
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`)
  }
}

/**
 * A database this reader deliberately does not read: a compression other than none/snappy, a comparator other
 * than `leveldb.BytewiseComparator`, or a directory that is no LevelDB database (no CURRENT, missing MANIFEST).
 */
export class UnsupportedLevelDbError extends Error {
  override readonly name = 'UnsupportedLevelDbError'
  constructor(
    readonly dbDir: string,
    message: string,
  ) {
    super(message)
  }
}
