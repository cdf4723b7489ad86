import {
  InvalidNodeResponseError,
  type NodeRpcClient,
  NodeRpcError,
  NodeUnreachableError,
} from '@ghostfleet/cometbft'

/**
 * One look at the node: the application height KYVE uses (`/abci_info`), and the block-store view (`/status`:
 * height, base, catching_up). Either call failing makes the whole observation a failure with a kind, never a
 * height of 0 (supervysor's `GetNodeHeight` returned 0 on garbage and decided on it).
 */
export type NodeObservation =
  | {
      reachable: true
      at: number
      /** `/abci_info` last_block_height: the committed application height. */
      appHeight: number
      /** `/status` latest_block_height: the block-store height. */
      storeHeight: number
      /** `/status` earliest_block_height: the block-store base (the prune height after a prune). */
      base: number
      catchingUp: boolean
    }
  | {
      reachable: false
      at: number
      kind: NodeFailureKind
      error: string
    }

/**
 * - `unreachable`: no answer (connection refused, reset, timeout) — the node is down, starting or hung;
 * - `rpc-error`: a JSON-RPC error answer;
 * - `invalid`: an answer that is not what CometBFT sends (validated, rejected, counted).
 */
export type NodeFailureKind = 'unreachable' | 'rpc-error' | 'invalid'

export function failureKind(error: unknown): NodeFailureKind {
  if (error instanceof NodeUnreachableError) return 'unreachable'
  if (error instanceof NodeRpcError) return 'rpc-error'
  if (error instanceof InvalidNodeResponseError) return 'invalid'
  return 'unreachable'
}

/** Asks the node both questions; never throws. */
export async function observeNode(
  client: NodeRpcClient,
  now: () => number = Date.now,
  onCall?: (method: 'abci_info' | 'status', outcome: 'ok' | NodeFailureKind) => void,
): Promise<NodeObservation> {
  const call = async <T>(method: 'abci_info' | 'status', run: () => Promise<T>): Promise<T> => {
    try {
      const value = await run()
      onCall?.(method, 'ok')
      return value
    } catch (error) {
      onCall?.(method, failureKind(error))
      throw error
    }
  }
  try {
    const [info, status] = await Promise.all([
      call('abci_info', () => client.abciInfo()),
      call('status', () => client.status()),
    ])
    return {
      reachable: true,
      at: now(),
      appHeight: info.lastBlockHeight,
      storeHeight: status.syncInfo.latestBlockHeight,
      base: status.syncInfo.earliestBlockHeight,
      catchingUp: status.syncInfo.catchingUp,
    }
  } catch (error) {
    return {
      reachable: false,
      at: now(),
      kind: failureKind(error),
      error: error instanceof Error ? error.message : String(error),
    }
  }
}
