import { createHash } from 'node:crypto'
import type { ApiVersion, JsonValue } from './json-encoding.js'

/*
 * `GET /cosmos/base/tendermint/v1beta1/node_info` (`cosmos.base.tendermint.v1beta1.GetNodeInfoResponse`), the
 * standard way for a REST client to learn which chain an endpoint serves (`default_node_info.network` is the
 * chain id). Versions follow the imitated KYVE release: v1.4 ran Cosmos SDK 0.47 / CometBFT 0.37, v1.5+ SDK
 * 0.50 / CometBFT 0.38.
 */

/** The node_info answer of a simulated KYVE node on `chainId`. */
export function nodeInfoJson(chainId: string, version: ApiVersion): { [key: string]: JsonValue } {
  const nodeId = createHash('sha256').update(`ghostfleet-kyve-sim/${chainId}`).digest('hex').slice(0, 40)
  const v15 = version === '1.5'
  return {
    default_node_info: {
      protocol_version: { p2p: '8', block: '11', app: '0' },
      default_node_id: nodeId,
      listen_addr: 'tcp://0.0.0.0:26656',
      network: chainId,
      version: v15 ? '0.38.12' : '0.37.4',
      // The channel ids of a CometBFT node (0x40 PEX, 0x20-0x23 consensus, 0x30 mempool, 0x38 evidence, …).
      channels: 'QCAhIiMwOGBhAA==',
      moniker: 'ghostfleet-kyve-sim',
      other: { tx_index: 'on', rpc_address: 'tcp://0.0.0.0:26657' },
    },
    application_version: {
      name: 'kyve',
      app_name: 'kyved',
      version: v15 ? 'v2.1.0' : 'v1.4.0',
      git_commit: createHash('sha1').update(`kyve/${version}`).digest('hex'),
      build_tags: 'netgo,ledger',
      go_version: v15 ? 'go version go1.22.7 linux/amd64' : 'go version go1.20.14 linux/amd64',
      build_deps: [],
      cosmos_sdk_version: v15 ? 'v0.50.7' : 'v0.47.6',
    },
  }
}
