/**
 * The CometBFT RPC methods the gateway routes across the pool's nodes, and the ones siblings may ask each other
 * for (the same read-only list: a sibling never reaches anything else of this node).
 *
 * KYVE's tendermint runtimes read `/block?height=h` and `/block_results?height=h` (KYVENetwork/kyvejs
 * integrations/tendermint/src/runtime.ts `getDataItem`; tendermint-bsync only `/block`); `/status`,
 * `/abci_info` and `/health` are what operators and health checks ask. `header`, `commit`, `validators` and
 * `consensus_params` are the other read-only methods that take a height; `genesis` is the same on every node of a
 * chain. Any other method is passed to the local node unchanged and only to it (`net_info` describes one node,
 * `broadcast_tx_*` and `unsafe_*` are not the gateway's to spread).
 */

/** How one routed method is answered: by the height it asks for, or by whichever node is best now. */
export interface RoutedMethod {
  /** The JSON-RPC positional parameter names, in CometBFT's order (for `params: [...]`). */
  args: readonly string[]
  /** True when its `height` argument selects a block (absent: the latest). */
  byHeight: boolean
}

export const ROUTED_METHODS: ReadonlyMap<string, RoutedMethod> = new Map<string, RoutedMethod>([
  ['block', { args: ['height'], byHeight: true }],
  ['block_results', { args: ['height'], byHeight: true }],
  ['header', { args: ['height'], byHeight: true }],
  ['commit', { args: ['height'], byHeight: true }],
  ['validators', { args: ['height', 'page', 'per_page'], byHeight: true }],
  ['consensus_params', { args: ['height'], byHeight: true }],
  ['status', { args: [], byHeight: false }],
  ['abci_info', { args: [], byHeight: false }],
  ['health', { args: [], byHeight: false }],
  ['genesis', { args: [], byHeight: false }],
])

/**
 * The chain id an answer of `method` carries in its body, where one does (`/status` names the network, a block
 * or header its chain). Answers without one (`/block_results`, `/abci_info`, …) are bound to a chain by the
 * sibling's signed `x-ghostfleet-chain-id` alone.
 */
export function chainIdInResult(method: string, result: unknown): string | null | undefined {
  const at = (value: unknown, ...path: string[]): unknown => {
    let current = value
    for (const key of path) {
      if (typeof current !== 'object' || current === null) return undefined
      current = (current as Record<string, unknown>)[key]
    }
    return current
  }
  const found = (() => {
    switch (method) {
      case 'status':
        return at(result, 'node_info', 'network')
      case 'block':
        // A height the node has not got answers `block: null` (CometBFT ≤ 0.34): nothing to check.
        return at(result, 'block') === null ? null : at(result, 'block', 'header', 'chain_id')
      case 'header':
        return at(result, 'header') === null ? null : at(result, 'header', 'chain_id')
      case 'commit':
        return at(result, 'signed_header', 'header', 'chain_id')
      default:
        return null
    }
  })()
  // `undefined`: the answer should name its chain but does not (not a CometBFT answer); `null`: nothing to check.
  if (found === null) return null
  return typeof found === 'string' ? found : undefined
}
