/** The CometBFT node: RPC client, launch arguments, address book, app.toml, offline pruner, lock check. */
export {}
