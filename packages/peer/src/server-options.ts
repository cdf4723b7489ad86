import type { FleetKey } from '@ghostfleet/coordination'
import { checkListenAddress, type ListenAddress, loggerOption, type StructuredLogger } from '@ghostfleet/core'
import { z } from 'zod'
import type { PeerHandler } from './handler.js'
import { type PeerLimitsInput, peerLimitsSchema } from './limits.js'
import { callback, chainId, fleetKey, SELF_DESCRIBING, sidecarId } from './option-fields.js'
import type { PeerRequestEvent } from './outcomes.js'

/** Options of {@link startPeerServer}. */
export interface PeerServerOptions {
  /** `host:port` or `[ipv6]:port` (port 0 picks a free one), or the address already split. */
  listen: string | ListenAddress
  key: FleetKey
  /** This sidecar's id, signed into every answer. */
  sidecarId: string
  /** The chain this sidecar's node serves, signed into every answer. */
  chainId: string
  handler: PeerHandler
  limits?: PeerLimitsInput
  /** @default silent */
  logger?: StructuredLogger
  /** Called once per request when it ends; map it to a counter and a histogram. Must not throw. */
  onRequest?: (event: PeerRequestEvent) => void
}

const LISTEN_EXAMPLE = 'expected host:port or [ipv6]:port, e.g. 127.0.0.1:26671 or 0.0.0.0:26671'

/** `host:port` text (checked by core's `checkListenAddress`) or `{ host, port }`. */
const listenAddress = () =>
  z.unknown().transform((value, context): ListenAddress => {
    const text =
      typeof value === 'string'
        ? value
        : typeof value === 'object' && value !== null && typeof (value as ListenAddress).host === 'string'
          ? hostPortText(value as ListenAddress)
          : undefined
    const check = text === undefined ? undefined : checkListenAddress(text)
    if (check?.ok === true) return check.address
    context.addIssue({
      code: 'custom',
      message:
        check === undefined
          ? `${LISTEN_EXAMPLE}, or { host, port }`
          : `${JSON.stringify(text)}: ${check.problem}; ${LISTEN_EXAMPLE}`,
      params: SELF_DESCRIBING,
    })
    return z.NEVER
  })

function hostPortText(address: ListenAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${String(address.port)}`
    : `${address.host}:${String(address.port)}`
}

export const peerServerOptionsSchema = z.strictObject({
  listen: listenAddress(),
  key: fleetKey(),
  sidecarId: sidecarId(),
  chainId: chainId(),
  handler: callback<PeerHandler>('a handler'),
  limits: peerLimitsSchema.prefault({}),
  logger: loggerOption().optional(),
  onRequest: callback<(event: PeerRequestEvent) => void>('an onRequest callback').optional(),
})
