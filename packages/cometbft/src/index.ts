/**
 * The CometBFT node as the sidecar sees it.
 *
 * - `store/`: the on-disk block store and state store (real CometBFT key layout and protobuf encodings),
 *   the offline pruner and the database lock check.
 * - `node/`: the RPC client, launch arguments, address-book stash and restore, app.toml pruning settings.
 */
export * from './node/index.js'
export * from './store/index.js'
