import type { ControllerSnapshot } from '../control/controller.js'
import { currentObservation } from '../fleet/report-builder.js'

/**
 * Whether the local node can be asked now, and what it holds, from the supervision loop's own observations: the
 * gateway never polls the node per request. Between two ticks the node can only have grown (a prune or switch
 * goes through the controller, which says so at once through `activity`); a crash in between shows as a refused
 * connection, after which the gateway asks a sibling.
 */
export type LocalNodeState =
  | {
      up: true
      /** Lowest stored block (`/status` earliest_block_height). */
      base: number
      /** The committed application height (`/abci_info`), as reports give it: every height up to it has results. */
      height: number
    }
  | { up: false; why: string }

export type LocalNodeView = () => LocalNodeState

const BUSY: Partial<Record<ControllerSnapshot['activity'], string>> = {
  starting: 'the sidecar is starting',
  switching: 'it is switching mode',
  pruning: 'it is being pruned',
  donating: 'it is stopped to take a checkpoint',
  stopping: 'the sidecar is stopping',
  stopped: 'the sidecar has stopped',
}

export function localNodeState(snapshot: ControllerSnapshot): LocalNodeState {
  const busy = BUSY[snapshot.activity]
  if (busy !== undefined) return { up: false, why: busy }
  if (snapshot.nodeProcess.state !== 'running')
    return { up: false, why: `its process is ${snapshot.nodeProcess.state}` }
  const node = currentObservation(snapshot)
  if (node === null) return { up: false, why: 'it has not answered since it (re)started' }
  if (!node.reachable) return { up: false, why: `it did not answer at the last look (${node.kind})` }
  return { up: true, base: node.base, height: node.appHeight }
}

export function describeLocal(state: LocalNodeState): string {
  return state.up
    ? `the local node holds ${state.base}–${state.height}`
    : `the local node is down: ${state.why}`
}
