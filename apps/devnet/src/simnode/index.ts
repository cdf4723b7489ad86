/**
 * `ghostfleet-simnode`: a simulated CometBFT v0.37 full node faithful where the sidecar, the tracker and the
 * KYVE protocol look — the home layout (config.toml, app.toml, node_key.json, genesis.json, addrbook.json),
 * the LevelDB key layout and protobuf encodings of `data/blockstore.db` and `data/state.db`, the RPC JSON
 * shapes (`/status`, `/abci_info`, `/block`, `/block_results`…), the CLI flags, and the peer rules that make
 * ghost mode work: it syncs only from peers it can find (seeds, persistent peers, address book).
 *
 * ```ts
 * await initHome({ home, chainId: 'osmosis-sim-1' })
 * const node = await SimNode.start({ flags: { home, producer: true, blockTime: '100' }, out: process.stdout, onFatal })
 * await node.stop()
 * await generateSimChain({ home, blocks: 100_000, partSize: 65536, blockTxs: 5, txSize: 256, blockTimeMs: 1000,
 *   valsetInterval: 100, progress: console.log })
 * ```
 * The CLI (`simnode-cli.ts`) wraps these; tests run the CLI as real processes. See `README.md` in this folder
 * for the p2p protocol and the deliberate deviations from a real node.
 */
// Exported names are prefixed where a bare one could collide with the kyve-sim exports sharing the package root.
export {
  AddressBook as SimnodeAddressBook,
  BUCKET_TYPE_NEW,
  BUCKET_TYPE_OLD,
  type KnownAddress as SimnodeKnownAddress,
} from './addrbook.js'
export {
  AddrBookError as SimnodeAddrBookError,
  HomeExistsError as SimnodeHomeExistsError,
  HomeFileError as SimnodeHomeFileError,
  SimnodeError,
} from './errors.js'
export {
  type GenerateOptions as SimChainGenerateOptions,
  type GenerateResult as SimChainGenerateResult,
  generateChain as generateSimChain,
} from './generate.js'
export { SIMULATED_GENESIS_TIME, simulatedGenesisValidators } from './genesis.js'
export {
  type InitOptions as SimnodeInitOptions,
  type InitResult as SimnodeInitResult,
  initHome,
} from './init.js'
export { nodeIdOf, readNodeKey } from './keys.js'
export { type NodeOutput as SimNodeOutput, SimNode, type SimNodeStartOptions } from './node.js'
export { COMETBFT_VERSION as SIMNODE_COMETBFT_VERSION } from './node-info.js'
export type { NodeSettings as SimNodeSettings, StartFlags as SimNodeStartFlags } from './start-options.js'
