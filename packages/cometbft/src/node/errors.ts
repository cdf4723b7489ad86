/*
 * Errors of the node module. Every failure a caller may want to tell apart is its own class; each message
 * names the thing that was wrong (endpoint, file, key, flag) so a log line alone is enough to act on.
 */

/** Base class of the errors {@link NodeRpcClient} requests reject with. */
export class NodeRequestError extends Error {
  /** The endpoint the client was created with, e.g. `http://127.0.0.1:26657`. */
  readonly endpoint: string
  /** The RPC method that failed, e.g. `status`. */
  readonly method: string

  constructor(endpoint: string, method: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'NodeRequestError'
    this.endpoint = endpoint
    this.method = method
  }
}

/** The node answered with a JSON-RPC `error` object. */
export class NodeRpcError extends NodeRequestError {
  /** JSON-RPC error code, e.g. -32603 (internal error). */
  readonly code: number
  /** JSON-RPC error message, e.g. `Internal error`. */
  readonly rpcMessage: string
  /** JSON-RPC error data (CometBFT puts the underlying error text here), if any. */
  readonly data: string | undefined
  /** HTTP status of the response that carried the error. */
  readonly httpStatus: number

  constructor(
    endpoint: string,
    method: string,
    error: { code: number; message: string; data?: string | undefined },
    httpStatus: number,
  ) {
    const data = error.data === undefined || error.data === '' ? '' : `: ${error.data}`
    super(
      endpoint,
      method,
      `${endpoint}/${method} answered JSON-RPC error ${error.code} (${error.message})${data}`,
    )
    this.name = 'NodeRpcError'
    this.code = error.code
    this.rpcMessage = error.message
    this.data = error.data
    this.httpStatus = httpStatus
  }
}

/** The node answered, but not with what a CometBFT node answers (not JSON, wrong envelope, wrong types). */
export class InvalidNodeResponseError extends NodeRequestError {
  /** What was wrong, e.g. `result.sync_info.latest_block_height: expected an int64 as a decimal string`. */
  readonly reason: string
  /** HTTP status of the response. */
  readonly httpStatus: number

  constructor(endpoint: string, method: string, reason: string, httpStatus: number) {
    super(
      endpoint,
      method,
      `${endpoint}/${method} returned an invalid response (HTTP ${httpStatus}): ${reason}`,
    )
    this.name = 'InvalidNodeResponseError'
    this.reason = reason
    this.httpStatus = httpStatus
  }
}

/** No answer: connection refused or reset, host unreachable, or no complete answer before the timeout. */
export class NodeUnreachableError extends NodeRequestError {
  /** The low-level error code, e.g. `ECONNREFUSED`, `ETIMEDOUT`, or `TIMEOUT` for our own deadline. */
  readonly code: string

  constructor(endpoint: string, method: string, code: string, detail: string, options?: ErrorOptions) {
    super(endpoint, method, `${endpoint}/${method} is unreachable (${code}): ${detail}`, options)
    this.name = 'NodeUnreachableError'
    this.code = code
  }
}

/** The endpoint given to `createNodeRpcClient` is not an http(s) URL. */
export class InvalidNodeEndpointError extends Error {
  constructor(endpoint: string, reason: string) {
    super(`invalid node RPC endpoint ${JSON.stringify(endpoint)}: ${reason}`)
    this.name = 'InvalidNodeEndpointError'
  }
}

/** A CometBFT listen address (`tcp://host:port`) that cannot be turned into an HTTP endpoint. */
export class InvalidListenAddressError extends Error {
  constructor(laddr: string, reason: string) {
    super(`cannot derive an RPC endpoint from listen address ${JSON.stringify(laddr)}: ${reason}`)
    this.name = 'InvalidListenAddressError'
  }
}

/** A node config file (`config.toml`, `app.toml`) that is missing, not TOML, or has a key of the wrong type. */
export class NodeConfigError extends Error {
  /** Absolute path of the file. */
  readonly file: string
  /** Dotted key that was wrong (`p2p.pex`), when the problem is one key. */
  readonly key: string | undefined

  constructor(file: string, key: string | undefined, reason: string, options?: ErrorOptions) {
    super(key === undefined ? `${file}: ${reason}` : `${file}: ${key}: ${reason}`, options)
    this.name = 'NodeConfigError'
    this.file = file
    this.key = key
  }
}

/** Pruning settings outside what the Cosmos SDK accepts for `pruning = "custom"`. */
export class InvalidPruningSettingsError extends Error {
  constructor(reason: string) {
    super(`invalid pruning settings: ${reason}`)
    this.name = 'InvalidPruningSettingsError'
  }
}

/** Launch options or pass-through flags that cannot produce a correct command line. */
export class LaunchOptionsError extends Error {
  constructor(reason: string) {
    super(`cannot build the node launch command: ${reason}`)
    this.name = 'LaunchOptionsError'
  }
}

/** An address book, its stash or the stash manifest is invalid or inconsistent; nothing was changed. */
export class AddressBookError extends Error {
  /** The file the problem is about. */
  readonly file: string

  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options)
    this.name = 'AddressBookError'
    this.file = file
  }
}

/** The directory is not a CometBFT home; the message lists exactly what is missing. */
export class NotANodeHomeError extends Error {
  /** Absolute path of the directory that was inspected. */
  readonly home: string
  /** One entry per problem, e.g. `config/config.toml not found`. */
  readonly problems: readonly string[]

  constructor(home: string, problems: readonly string[]) {
    super(`${home} is not a CometBFT home: ${problems.join('; ')}`)
    this.name = 'NotANodeHomeError'
    this.home = home
    this.problems = problems
  }
}
