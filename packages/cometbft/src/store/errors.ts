/** Errors raised by the store: every failure mode has its own class so callers can tell them apart. */

/** Bytes that are not a valid encoding of the expected protobuf message (truncated, bad wire type, overflow). */
export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError'
}

/** A value that cannot be encoded (a non-integer or out-of-range number for an integer field). */
export class ProtoEncodeError extends Error {
  override readonly name = 'ProtoEncodeError'
}

/** A block store or state store that does not exist where it was looked for. */
export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError'
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message)
  }
}

/** Data found on disk that contradicts itself (a block meta without its parts, a state that does not decode, …). */
export class StoreCorruptionError extends Error {
  override readonly name = 'StoreCorruptionError'
}

/** A database directory whose LOCK is held by another process (the node is still running). */
export class DatabaseLockedError extends Error {
  override readonly name = 'DatabaseLockedError'
  constructor(
    message: string,
    readonly dbDir: string,
  ) {
    super(message)
  }
}

/** The lock check itself cannot run (no `flock` binary, unreadable LOCK file). */
export class LockCheckError extends Error {
  override readonly name = 'LockCheckError'
}

/** The pruner refuses to touch the databases (layout, backend, heights); nothing has been changed. */
export class PruneRefusedError extends Error {
  override readonly name = 'PruneRefusedError'
}
