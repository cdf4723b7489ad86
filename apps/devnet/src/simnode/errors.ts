import type { z } from 'zod'

/** Base class of every error the simulated node raises on purpose (bad input, bad files, bad peers). */
export class SimnodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A file in the node home (config.toml, genesis.json, node_key.json, addrbook.json…) is missing or malformed. */
export class HomeFileError extends SimnodeError {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options)
  }
}

/** `init` was asked to create a home where one already exists. */
export class HomeExistsError extends SimnodeError {
  constructor(readonly home: string) {
    super(
      `${home} already holds a node home (config/config.toml or config/genesis.json exists); refusing to overwrite`,
    )
  }
}

/** A command-line flag or config value could not be used. */
export class FlagError extends SimnodeError {}

/** A peer address (`id@host:port`) or listen address (`tcp://host:port`) is malformed. */
export class AddressError extends SimnodeError {}

/** The address book file exists but cannot be parsed (CometBFT panics in this case). */
export class AddrBookError extends SimnodeError {}

/** A peer failed the handshake: wrong node id, wrong chain id, bad signature, or it is ourselves. */
export class HandshakeError extends SimnodeError {}

/** A peer answered a p2p request with something we cannot use. */
export class PeerProtocolError extends SimnodeError {}

/** The RPC layer's error: its message becomes the JSON-RPC `error.data`, as CometBFT does. */
export class RpcError extends SimnodeError {
  constructor(
    message: string,
    readonly code: number = -32603,
    readonly rpcMessage: string = 'Internal error',
  ) {
    super(message)
  }
}

/** A write or read the simulated node's store cannot honour (non-contiguous height, missing genesis, read-only store, …). */
export class ChainStoreError extends SimnodeError {}

/** The first problem zod found, as `key.path: message` (`(root)` for the value itself). */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  return `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`
}
