import { z } from 'zod'

/** CometBFT release line the simulated node claims to be (`version` in node_info, and `/status`). */
export const COMETBFT_VERSION = '0.37.18'
/** `version.P2PProtocol` and `version.BlockProtocol` of CometBFT v0.37. */
export const P2P_PROTOCOL = 8
export const BLOCK_PROTOCOL = 11

// Reactor channels of a v0.37 full node: blocksync 0x40, consensus 0x20-0x23, mempool 0x30, evidence 0x38,
// statesync 0x60/0x61, and PEX 0x00 only when the PEX reactor runs (node/node.go makeNodeInfo).
const CHANNELS = '4020212223303860' + '61'
const PEX_CHANNEL = '00'

/**
 * `p2p.DefaultNodeInfo` as `/status` serialises it (cmtjson: uint64 as strings, channels as uppercase hex).
 * The same object is exchanged in the simulated p2p handshake.
 */
export interface NodeInfo {
  protocol_version: { p2p: string; block: string; app: string }
  id: string
  listen_addr: string
  network: string
  version: string
  channels: string
  moniker: string
  other: { tx_index: string; rpc_address: string }
}

export function makeNodeInfo(opts: {
  id: string
  listenAddr: string
  network: string
  moniker: string
  rpcAddress: string
  pex: boolean
}): NodeInfo {
  return {
    protocol_version: { p2p: String(P2P_PROTOCOL), block: String(BLOCK_PROTOCOL), app: '0' },
    id: opts.id,
    listen_addr: opts.listenAddr,
    network: opts.network,
    version: COMETBFT_VERSION,
    channels: (CHANNELS + (opts.pex ? PEX_CHANNEL : '')).toUpperCase(),
    moniker: opts.moniker,
    other: { tx_index: 'on', rpc_address: opts.rpcAddress },
  }
}

export const nodeInfoSchema = z.object({
  protocol_version: z.object({ p2p: z.string(), block: z.string(), app: z.string() }),
  id: z.string().regex(/^[0-9a-f]{40}$/, 'node id must be 40 lowercase hex characters'),
  listen_addr: z.string().min(1),
  network: z.string().min(1),
  version: z.string(),
  channels: z.string().regex(/^([0-9A-Fa-f]{2})*$/),
  moniker: z.string(),
  other: z.object({ tx_index: z.string(), rpc_address: z.string() }),
})

/** True when the node advertises the PEX channel (0x00). */
export function hasPexChannel(info: NodeInfo): boolean {
  const bytes: string[] = info.channels.match(/../g) ?? []
  return bytes.includes(PEX_CHANNEL)
}
