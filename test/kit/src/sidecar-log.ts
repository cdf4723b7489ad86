/**
 * What a sidecar's JSON log (pino) says happened: its lines, and the spans its node was down on purpose. The fleet
 * and demo end-to-end tests read these from the processes' log files.
 */
import { readFileSync } from 'node:fs'
import type { Json } from './http.js'

/** The JSON lines of a pino log file. */
export function logLines(file: string): Json[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Json]
      } catch {
        return []
      }
    })
}

/** A span of time a sidecar's node was down on purpose (a mode switch or a prune), from its own log. */
export interface Disruption {
  sidecarId: string
  kind: 'switch' | 'prune'
  from: number
  to: number
  detail: Json
}

/**
 * The mode switches and prunes in a sidecar's log, as spans from "switching to …"/"pruning: stopping the node"
 * to "now in … mode"/the prune's result line. A span still open at the end of the log lasts until `openUntil`.
 */
export function disruptions(sidecarId: string, file: string, openUntil = Date.now()): Disruption[] {
  const spans: Disruption[] = []
  let open: { kind: 'switch' | 'prune'; from: number; detail: Json } | null = null
  for (const line of logLines(file)) {
    const msg = String(line['msg'] ?? '')
    const at = Number(line['time'])
    if (msg.startsWith('switching to ') || msg.startsWith('pruning: stopping the node')) {
      open = { kind: msg.startsWith('pruning') ? 'prune' : 'switch', from: at, detail: line }
    } else if (
      open !== null &&
      ((open.kind === 'switch' && /^now in (normal|ghost) mode/.test(msg)) ||
        (open.kind === 'prune' &&
          (msg.startsWith('pruned blocks') ||
            /^prune to \d+: nothing to do/.test(msg) ||
            msg.startsWith('prune failed'))))
    ) {
      spans.push({ sidecarId, kind: open.kind, from: open.from, to: at, detail: open.detail })
      open = null
    }
  }
  if (open !== null)
    spans.push({ sidecarId, kind: open.kind, from: open.from, to: openUntil, detail: open.detail })
  return spans
}

/** Pairs of spans (of different sidecars) that overlap in time. */
export function overlapping(spans: Disruption[]): Array<[Disruption, Disruption]> {
  const pairs: Array<[Disruption, Disruption]> = []
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i] as Disruption
      const b = spans[j] as Disruption
      if (a.sidecarId !== b.sidecarId && a.from < b.to && b.from < a.to) pairs.push([a, b])
    }
  }
  return pairs
}
