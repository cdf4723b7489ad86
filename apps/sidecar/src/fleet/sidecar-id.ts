import { SIDECAR_ID_PATTERN } from '@ghostfleet/core'

const MAX_LENGTH = 64

/** An id a sidecar may use on the wire and in Redis keys. */
export function isSidecarId(value: string): boolean {
  return SIDECAR_ID_PATTERN.test(value)
}

/**
 * A sidecar id derived from the host name when `fleet.sidecarId` is not set: every character outside
 * `A–Z a–z 0–9 . _ -` becomes `-`, runs of `-` collapse, and the result is cut to 64 characters. Host names are
 * unique in a fleet, and a stable id matters more than a pretty one: the tracker keys budgets and commands by it.
 * An empty result (a host name of only odd characters) falls back to `sidecar`.
 */
export function sidecarIdFromHostname(hostname: string): string {
  const cleaned = hostname
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_LENGTH)
  return cleaned === '' ? 'sidecar' : cleaned
}
