/** `ghostfleet tracker status --watch`: the fleet table, refreshed until SIGINT, SIGTERM or SIGHUP. */
import { setTimeout as delay } from 'node:timers/promises'
import { LiveFrame } from '@ghostfleet/telemetry'
import { z } from 'zod'
import { TrackerStatusError } from './errors.js'
import { fetchFleet } from './status-command.js'
import { formatFleetTable } from './status-table.js'

/** `--interval`: whole seconds, 1 s to an hour. */
export const watchIntervalSchema = z.coerce
  .number({ error: 'must be a number of seconds' })
  .int('must be a whole number of seconds')
  .min(1, 'must be at least 1 second')
  .max(3600, 'must be at most 3600 seconds')

export interface WatchOptions {
  trackerUrl: string
  intervalSeconds: number
  /** Where the frames go. */
  write: (text: string) => void
  /** Redraw in place (a TTY) rather than append. */
  tty: boolean
  columns?: () => number | undefined
  /** Ends the watch. */
  signal: AbortSignal
}

/**
 * Shows the table every `intervalSeconds` until `signal` aborts. A failed fetch (the tracker restarting) is shown
 * in place of the table and the watch goes on: an operator watching a failover wants to see it end.
 */
export async function watchFleet(options: WatchOptions): Promise<void> {
  const live = new LiveFrame({ write: options.write, tty: options.tty, columns: options.columns })
  while (!options.signal.aborted) {
    let body: string
    try {
      const fleet = await fetchFleet({ trackerUrl: options.trackerUrl })
      body = formatFleetTable(fleet, Date.now())
    } catch (error) {
      if (!(error instanceof TrackerStatusError)) throw error
      body = `ghostfleet tracker status: ${error.message}`
    }
    if (options.signal.aborted) return
    live.frame(`${new Date().toISOString()}  every ${options.intervalSeconds}s, Ctrl-C stops\n${body}`)
    try {
      await delay(options.intervalSeconds * 1000, undefined, { signal: options.signal })
    } catch {
      return
    }
  }
}
