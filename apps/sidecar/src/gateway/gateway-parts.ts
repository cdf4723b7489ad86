import { REPORT_TTL_INTERVALS, readSiblings } from '@ghostfleet/coordination'
import type { PeerHandler } from '@ghostfleet/peer'
import type { Logger } from '@ghostfleet/telemetry'
import type { SidecarSettings } from '../config/sidecar-settings.js'
import type { Controller } from '../control/controller.js'
import type { FleetMode } from '../fleet/fleet-mode.js'
import { startPeerListener } from '../peer/peer-listener.js'
import type { GatewayMetrics } from './gateway-metrics.js'
import { GatewayRouter } from './gateway-router.js'
import { startGatewayServer } from './gateway-server.js'
import { type LocalNodeView, localNodeState } from './local-node.js'
import { NodeForwarder } from './node-forwarder.js'
import { peerSiblingTransport } from './peer-sibling-transport.js'
import { SiblingDirectory } from './sibling-directory.js'

export interface GatewayParts {
  settings: SidecarSettings
  controller: Pick<Controller, 'snapshot'>
  /** Fleet mode: its Redis connection reads the siblings. */
  fleet: Pick<FleetMode, 'redis'> | null
  /** The local node's chain (its genesis): what siblings' answers must be for, and what this sidecar signs. */
  nodeChainId: string
  metrics: GatewayMetrics
  log: Logger
  /** Pushes a step onto the sidecar's cleanup stack (run in reverse at stop). */
  defer: (what: string, run: () => Promise<void> | void) => void
  /** The checkpoint routes the peer listener serves when this sidecar donates (peer/checkpoint-routes.ts). */
  checkpoints?: PeerHandler
}

/**
 * Starts the peer listener (fleet mode with a fleet key and `peer.listen`) and the RPC gateway
 * (`gateway.enabled`), both reading the local node's state from the supervision loop's observations, and the
 * sibling list the gateway routes on. Returns the URL siblings reach the peer listener at, for the reports; null
 * when it does not run.
 */
export async function startGatewayParts(parts: GatewayParts): Promise<string | null> {
  const { settings, controller, fleet, nodeChainId, metrics, log, defer } = parts
  const fleetKey = settings.fleet?.fleetKey ?? null
  if (settings.peer !== null && (fleet === null || fleetKey === null)) {
    log.warn(
      { peerListen: settings.peer.listen },
      'peer.listen is set but siblings are not served: that needs fleet mode (a Redis URL) and ' +
        'GHOSTFLEET_FLEET_KEY to authenticate them',
    )
  }
  const peer = fleet !== null && fleetKey !== null ? settings.peer : null
  if (settings.gateway === null && peer === null) return null
  const local: LocalNodeView = () => localNodeState(controller.snapshot())
  const forwarder = new NodeForwarder(
    settings.node.rpcEndpoint,
    settings.gateway?.upstreamTimeoutMs ?? 10_000,
  )
  defer('node RPC connections', () => forwarder.close())

  let peerUrl: string | null = null
  if (peer !== null && fleetKey !== null && settings.fleet !== null) {
    let server: Awaited<ReturnType<typeof startPeerListener>>
    try {
      server = await startPeerListener({
        listen: peer.listen,
        key: fleetKey,
        sidecarId: settings.fleet.sidecarId,
        nodeChainId,
        local,
        forwarder,
        maxConcurrent: peer.maxConcurrent,
        ratePerSecond: peer.ratePerSecond,
        metrics,
        log,
        ...(parts.checkpoints === undefined ? {} : { checkpoints: parts.checkpoints }),
      })
    } catch (error) {
      throw new Error(`${(error as Error).message} (peer.listen in ${settings.file})`)
    }
    defer('peer listener', () => server.close())
    peerUrl = peer.advertiseUrl ?? server.url
    log.info({ listen: server.url, advertised: peerUrl }, 'serving siblings of the pool on the peer listener')
  }

  if (settings.gateway === null) return peerUrl
  let siblings: SiblingDirectory | null = null
  if (fleet !== null && fleetKey !== null && settings.fleet !== null) {
    const { sidecarId, reportIntervalMs } = settings.fleet
    // A sibling's report hash lives this long after its last report; an older list is not routed on.
    const maxAgeMs = reportIntervalMs * REPORT_TTL_INTERVALS
    const directory = new SiblingDirectory({
      read: () =>
        readSiblings(fleet.redis, {
          chainId: settings.chainId,
          poolId: settings.poolId,
          selfId: sidecarId,
          maxAgeMs,
        }),
      intervalMs: reportIntervalMs,
      maxAgeMs,
      log,
    })
    directory.start()
    defer('sibling directory', () => directory.stop())
    siblings = directory
  }
  const transport =
    fleetKey === null || settings.fleet === null
      ? null
      : peerSiblingTransport({
          key: fleetKey,
          sidecarId: settings.fleet.sidecarId,
          timeoutMs: settings.gateway.upstreamTimeoutMs,
        })
  if (transport !== null) defer('sibling connections', () => transport.close())
  const router = new GatewayRouter({
    local,
    forwarder,
    siblings: () => siblings?.list() ?? [],
    transport,
    nodeChainId,
    pool: `${settings.chainId} pool ${settings.poolId}`,
    upstreamTimeoutMs: settings.gateway.upstreamTimeoutMs,
    metrics,
  })
  let server: Awaited<ReturnType<typeof startGatewayServer>>
  try {
    server = await startGatewayServer({ listen: settings.gateway.listen, router, log })
  } catch (error) {
    throw new Error(`${(error as Error).message} (gateway.listen in ${settings.file})`)
  }
  defer('RPC gateway', () => server.close())
  log.info(
    { url: server.url, siblings: transport === null ? 'off (needs fleet mode and a fleet key)' : 'on' },
    `RPC gateway for the protocol node at ${server.url}`,
  )
  return peerUrl
}
