/** Errors raised by the store: every failure mode has its own class so callers can tell them apart. */

/** Base of the store's errors: `name` is the class's own name. */
class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Bytes that are not a valid encoding of the expected protobuf message (truncated, bad wire type, overflow). */
export class ProtoDecodeError extends StoreError {}

/** A value that cannot be encoded (a non-integer or out-of-range number for an integer field). */
export class ProtoEncodeError extends StoreError {}

/** A block store or state store that does not exist where it was looked for. */
export class StoreNotFoundError extends StoreError {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message)
  }
}

/** Data found on disk that contradicts itself (a block meta without its parts, a state that does not decode, …). */
export class StoreCorruptionError extends StoreError {}

/** A database directory whose LOCK is held by another process (the node is still running). */
export class DatabaseLockedError extends StoreError {
  constructor(
    message: string,
    readonly dbDir: string,
  ) {
    super(message)
  }
}

/** The lock check itself cannot run (no `flock` binary, unreadable LOCK file). */
export class LockCheckError extends StoreError {}

/** The pruner refuses to touch the databases (layout, backend, heights); nothing has been changed. */
export class PruneRefusedError extends StoreError {}
