/** `ghostfleet tracker status`: fetches `/v1/fleet` from a tracker and prints it as a table. */
import { parseWith, ValidationError } from '@ghostfleet/core'
import { TrackerStatusError } from './errors.js'
import { type FleetView, fleetViewSchema } from './fleet-view.js'

export interface StatusOptions {
  /** Base URL of a tracker's HTTP API. */
  trackerUrl: string
  /** Upper bound of the request. @default 10000 */
  timeoutMs?: number
}

/** @throws TrackerStatusError when the tracker cannot be reached or its answer is not a fleet. */
export async function fetchFleet(options: StatusOptions): Promise<FleetView> {
  let url: URL
  try {
    url = new URL('/v1/fleet', options.trackerUrl)
  } catch {
    throw new TrackerStatusError(`--tracker ${JSON.stringify(options.trackerUrl)} is not a URL`)
  }
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) })
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
    throw new TrackerStatusError(`cannot reach the tracker at ${url.origin}${cause || ` (${String(error)})`}`)
  }
  const text = await response.text()
  if (!response.ok) {
    throw new TrackerStatusError(
      `the tracker at ${url.origin} answered ${response.status}: ${text.slice(0, 200)}`,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new TrackerStatusError(
      `the tracker at ${url.origin} did not answer JSON: ${JSON.stringify(text.slice(0, 80))}`,
    )
  }
  try {
    return parseWith(fleetViewSchema, json, `${url.href}`)
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new TrackerStatusError(`unexpected answer (a tracker of another release?): ${error.message}`)
    }
    throw error
  }
}
