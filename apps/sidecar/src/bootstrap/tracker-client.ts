import {
  BOOTSTRAP_API_PATH,
  type BootstrapRequest,
  type BootstrapStatus,
  bootstrapStatusSchema,
  errorFields,
  pause,
  type StructuredLogger,
  TRACKER_PEER_CHAIN_ID,
} from '@ghostfleet/core'
import { type PeerClient, PeerError, type PeerReply } from '@ghostfleet/peer'
import { z } from 'zod'
import { BootstrapError } from './errors.js'

/*
 * The new host's side of the tracker's bootstrap API (signed with the fleet key on the tracker's peer listener):
 * ask for a donor, then poll the request until the donor's checkpoint is ready. Polling rides out a tracker that
 * does not answer for a while (a failover: the request lives in Redis) until the deadline.
 */

const errorBody = z.object({ error: z.string().max(2_000) })

function describeAnswer(reply: PeerReply): string {
  try {
    const parsed = errorBody.safeParse(reply.json())
    if (parsed.success) return parsed.data.error
  } catch {
    // not JSON: the text below
  }
  return reply.text().slice(0, 300)
}

function parseStatus(reply: PeerReply, trackerUrl: string): BootstrapStatus {
  let value: unknown
  try {
    value = reply.json()
  } catch {
    value = undefined
  }
  const parsed = bootstrapStatusSchema.safeParse(value)
  if (!parsed.success)
    throw new BootstrapError(
      'no-donor',
      `the tracker at ${trackerUrl} answered a bootstrap status this sidecar cannot read ` +
        `(${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''}); ` +
        'are the tracker and the sidecar of the same release?',
    )
  return parsed.data
}

/** POST /v1/bootstrap: asks the tracker for a donor. */
export async function requestBootstrap(
  client: PeerClient,
  trackerUrl: string,
  request: BootstrapRequest,
  signal?: AbortSignal,
): Promise<BootstrapStatus> {
  let reply: PeerReply
  try {
    reply = await client.request(trackerUrl, {
      method: 'POST',
      path: BOOTSTRAP_API_PATH,
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json' },
      expectChainId: TRACKER_PEER_CHAIN_ID,
      ...(signal === undefined ? {} : { signal }),
    })
  } catch (error) {
    if (error instanceof PeerError)
      throw new BootstrapError(
        'no-donor',
        `cannot ask the tracker at ${trackerUrl} for a donor: ${error.message}. Check --tracker-url (the ` +
          "tracker's [peer] listen address) and that both sides have the same GHOSTFLEET_FLEET_KEY.",
        { cause: error },
      )
    throw error
  }
  if (reply.status === 202 || reply.status === 200) return parseStatus(reply, trackerUrl)
  throw new BootstrapError(
    'no-donor',
    reply.status === 503
      ? `no sibling can donate a checkpoint now: ${describeAnswer(reply)}. Nothing was changed; try again later.`
      : `the tracker refused the bootstrap request (${reply.status}): ${describeAnswer(reply)}`,
  )
}

export interface WaitForCheckpointOptions {
  client: PeerClient
  trackerUrl: string
  bootstrapId: string
  /** Give up after this long. */
  timeoutMs: number
  /** @default 1000 */
  pollMs?: number
  signal?: AbortSignal
  log: StructuredLogger
}

/** Polls GET /v1/bootstrap/{id} until the checkpoint is `ready`; returns that status (donor, URL, checkpoint). */
export async function waitForCheckpoint(options: WaitForCheckpointOptions): Promise<BootstrapStatus> {
  const { client, trackerUrl, bootstrapId, log } = options
  const deadline = Date.now() + options.timeoutMs
  let last: BootstrapStatus | null = null
  let lastProblem: string | null = null
  for (;;) {
    if (options.signal?.aborted === true)
      throw new BootstrapError('no-donor', `stopped while waiting for bootstrap ${bootstrapId}`)
    try {
      const reply = await client.request(trackerUrl, {
        path: `${BOOTSTRAP_API_PATH}/${bootstrapId}`,
        expectChainId: TRACKER_PEER_CHAIN_ID,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      if (reply.status === 404)
        throw new BootstrapError(
          'no-donor',
          `the tracker no longer knows bootstrap ${bootstrapId} (${describeAnswer(reply)}): it expired; run bootstrap again`,
        )
      if (reply.status !== 200)
        throw new BootstrapError(
          'no-donor',
          `the tracker answered ${reply.status} for bootstrap ${bootstrapId}: ${describeAnswer(reply)}`,
        )
      const status = parseStatus(reply, trackerUrl)
      if (status.bootstrapId !== bootstrapId)
        throw new BootstrapError(
          'no-donor',
          `the tracker answered for ${status.bootstrapId}, not ${bootstrapId}`,
        )
      if (last === null || last.state !== status.state || last.donor !== status.donor)
        log.info(
          { bootstrapId, state: status.state, donor: status.donor, detail: status.detail },
          'bootstrap request state',
        )
      last = status
      lastProblem = null
      if (status.state === 'ready') {
        if (status.donor === null || status.donorPeerUrl === null || status.checkpointId === null)
          throw new BootstrapError(
            'no-donor',
            `the tracker says bootstrap ${bootstrapId} is ready but names no donor, peer URL or checkpoint`,
          )
        return status
      }
      if (status.state === 'failed' || status.state === 'expired')
        throw new BootstrapError(
          'no-donor',
          `bootstrap ${bootstrapId} ${status.state}${status.donor === null ? '' : ` (donor ${status.donor})`}` +
            `${status.detail === null ? '' : `: ${status.detail}`}. Nothing was changed; run bootstrap again.`,
        )
    } catch (error) {
      if (!(error instanceof PeerError)) throw error
      // The tracker is restarting or failing over; the request lives in Redis. Keep asking until the deadline.
      lastProblem = error.message
      log.warn({ bootstrapId, ...errorFields(error) }, 'the tracker did not answer; asking again')
    }
    if (Date.now() >= deadline)
      throw new BootstrapError(
        'no-donor',
        `no checkpoint within ${Math.round(options.timeoutMs / 1000)} s for bootstrap ${bootstrapId}: ` +
          (lastProblem !== null
            ? `the tracker did not answer (${lastProblem})`
            : `last state ${last?.state ?? 'unknown'}${last?.detail ? ` (${last.detail})` : ''}`) +
          '. Nothing was changed; raise --timeout or run bootstrap again.',
      )
    await pause(Math.min(options.pollMs ?? 1_000, Math.max(0, deadline - Date.now())), options.signal)
  }
}
