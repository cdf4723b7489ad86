/**
 * The running node as the sidecar controls it: RPC client, launch command (binary or cosmovisor, normal or
 * ghost mode), address-book stash and restore, config.toml reading, app.toml pruning settings, home checks.
 *
 * ```ts
 * const home = '/data/osmosis'
 * await requireNodeHome(home)
 * const config = await readNodeConfig(home)
 * const rpc = createNodeRpcClient({ endpoint: rpcEndpointFromLaddr(config.rpc.laddr) })
 * const { lastBlockHeight } = await rpc.abciInfo()
 *
 * // entering ghost mode (node stopped):
 * await stashAddressBook(home, '/var/lib/ghostfleet/addrbook')
 * const launch = buildLaunchCommand({ binary: 'osmosisd', home, launcher: 'binary', flags: '',
 *   mode: 'ghost', ghostP2pPort: await findFreeLoopbackPort() })
 * // returning to normal mode (node stopped):
 * await restoreAddressBook(home, '/var/lib/ghostfleet/addrbook')
 * ```
 *
 * @module
 */

export {
  ADDRESS_BOOK_MANIFEST_FILE,
  ADDRESS_BOOK_STASH_FILE,
  type AddressBook,
  type AddressBookFile,
  type AddressBookOptions,
  type AddressBookStashManifest,
  type AddressBookStep,
  addressBookSchema,
  type RestoreResult,
  readAddressBook,
  readAddressBookStash,
  restoreAddressBook,
  type StashResult,
  stashAddressBook,
} from './address-book.js'
export {
  APP_TOML_BACKUP_NAME,
  type ApplyPruningOptions,
  type ApplyPruningResult,
  applyPruningSettings,
  appTomlPath,
  type PruningChange,
  type PruningSettings,
  type PruningSettingsInput,
  readPruningSettings,
} from './app-toml.js'
/** Durable file replacement (temp + fsync + rename + directory fsync), shared with the sidecar's own files. */
export { writeFileAtomic } from './atomic-file.js'
export {
  configTomlPath,
  NODE_CONFIG_DEFAULTS,
  type NodeConfig,
  readNodeConfig,
  rpcEndpointFromLaddr,
} from './config-toml.js'
export {
  AddressBookError,
  InvalidListenAddressError,
  InvalidNodeEndpointError,
  InvalidNodeResponseError,
  InvalidPruningSettingsError,
  LaunchOptionsError,
  NodeConfigError,
  NodeRequestError,
  NodeRpcError,
  NodeUnreachableError,
  NotANodeHomeError,
} from './errors.js'
/** The node's chain id from its genesis file, read without parsing the (possibly huge) app state. */
export { readGenesisChainId, topLevelChainId } from './genesis.js'
export {
  inspectNodeHome,
  type NodeHomeCheck,
  type NodeHomeReport,
  requireNodeHome,
} from './home.js'
export {
  buildLaunchCommand,
  findFreeLoopbackPort,
  type LaunchCommand,
  type LaunchOptions,
} from './launch.js'
export { pathExists } from './path-exists.js'
export {
  type AbciInfo,
  createNodeRpcClient,
  type NodeRpcClient,
  type NodeRpcClientOptions,
  type NodeStatus,
} from './rpc-client.js'
