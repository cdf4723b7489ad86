/**
 * The tracker's bootstrap API (served on its authenticated peer listener, signed with the fleet key): a new host
 * asks for a donor, then polls the request until the donor's checkpoint is ready to download.
 *
 * - `POST /v1/bootstrap` with a {@link BootstrapRequest} → 202 {@link BootstrapStatus}, or 503 `{error}` when no
 *   sibling can donate now (the error says why).
 * - `GET /v1/bootstrap/{bootstrapId}` → 200 {@link BootstrapStatus}, or 404 `{error}` (unknown or expired and
 *   gone).
 *
 * Bodies from the other side are parsed with these schemas (unknown keys dropped, like the other wire messages,
 * so either side can add fields within a release).
 *
 * The tracker serves no chain of its own, so its peer listener signs its answers with the chain id
 * {@link TRACKER_PEER_CHAIN_ID}: a client may pass it as `expectChainId` (never the pool's chain id).
 */
import { z } from 'zod'
import {
  bootstrapIdField,
  chainId,
  checkpointIdField,
  epochMs,
  httpUrl,
  intAtLeast,
  message,
  oneOf,
  sidecarId,
} from './fields.js'
import { DONATION_STATES } from './wire.js'

/** The chain id the tracker's peer listener signs into its answers (it serves every chain's pools). */
export const TRACKER_PEER_CHAIN_ID = 'ghostfleet-tracker'

/** The path of the bootstrap API on the tracker's peer listener; one request is `${BOOTSTRAP_API_PATH}/<id>`. */
export const BOOTSTRAP_API_PATH = '/v1/bootstrap'

/**
 * Where a bootstrap request is: `pending` (no checkpoint started yet: the donor waits for a disruption slot in the
 * pool's availability budget), then the donor's own {@link DONATION_STATES} (`taking`, `sealing`, `ready`,
 * `failed`), or `expired` (past `expiresAt` before it became ready).
 */
export const BOOTSTRAP_STATES = ['pending', ...DONATION_STATES, 'expired'] as const
export type BootstrapState = (typeof BOOTSTRAP_STATES)[number]

/** What a new host sends to ask for a donor. `requestedBy` must equal the request's signed sender. */
export const bootstrapRequestSchema = message({
  chainId: chainId(),
  poolId: intAtLeast(0),
  /** The new host's sidecar id. */
  requestedBy: sidecarId(),
})
export type BootstrapRequest = z.output<typeof bootstrapRequestSchema>

/** Longest `detail` in a status (a donor's failure reason or why the request waits). */
export const MAX_BOOTSTRAP_DETAIL = 300

/** The tracker's view of one bootstrap request. */
export const bootstrapStatusSchema = message({
  bootstrapId: bootstrapIdField(),
  chainId: chainId(),
  poolId: intAtLeast(0),
  requestedBy: sidecarId(),
  state: oneOf(BOOTSTRAP_STATES),
  /** The donor's sidecar id, once one is chosen. */
  donor: sidecarId().nullable(),
  /** The donor's peer listener (download the checkpoint there), once one is chosen. */
  donorPeerUrl: httpUrl().nullable(),
  /** Set when `state` is `ready`. */
  checkpointId: checkpointIdField().nullable(),
  detail: z
    .string({ error: 'expected a string' })
    .max(MAX_BOOTSTRAP_DETAIL, { error: `expected at most ${MAX_BOOTSTRAP_DETAIL} characters` })
    .nullable(),
  /** After this the request is `expired` and the donor drops it. */
  expiresAt: epochMs(),
})
export type BootstrapStatus = z.output<typeof bootstrapStatusSchema>
