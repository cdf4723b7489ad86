/** The fleet as a plain-text table for `ghostfleet-tracker status`. */
import type { FleetView, SidecarView } from './fleet-view.js'

const HEADERS = [
  'POOL',
  'SIDECAR',
  'MODE',
  'NODE HEIGHT',
  'LAG',
  'LAST REPORT',
  'LAST PRUNE',
  'STATE',
] as const

/** `12s`, `5m`, `3h`, `2d`: short ages for a table. */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-'
  if (seconds < 120) return `${Math.round(seconds)}s`
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`
  return `${Math.round(seconds / 86_400)}d`
}

function modeCell(sidecar: SidecarView): string {
  if (sidecar.desiredMode !== null && sidecar.desiredMode !== sidecar.mode)
    return `${sidecar.mode}→${sidecar.desiredMode}`
  return sidecar.mode
}

function stateCell(sidecar: SidecarView): string {
  if (sidecar.silent) return 'silent'
  const parts: string[] = []
  if (sidecar.activity !== 'serving') parts.push(sidecar.activity)
  if (!sidecar.nodeReachable) parts.push('node unreachable')
  if (sidecar.command !== null)
    parts.push(`${sidecar.command.description}${sidecar.command.pickedUp ? '' : ' (sent)'}`)
  else if (sidecar.pruneToHeight !== null) parts.push(`prune to ${sidecar.pruneToHeight}`)
  if (sidecar.decidedBy === 'local') parts.push('local decisions')
  return parts.length === 0 ? 'serving' : parts.join(', ')
}

function row(sidecar: SidecarView, now: number): string[] {
  // Height 0 from a node that does not answer is "not known yet" (a node still starting), not a node at 0.
  const heightKnown = sidecar.nodeReachable || sidecar.nodeHeight > 0
  return [
    `${sidecar.chainId}/${sidecar.poolId}`,
    sidecar.sidecarId,
    modeCell(sidecar),
    heightKnown ? String(sidecar.nodeHeight) : '-',
    sidecar.lag === null || !heightKnown ? '-' : String(sidecar.lag),
    formatAge(sidecar.lastReportAgeSeconds),
    sidecar.lastPrune === null
      ? '-'
      : `${sidecar.lastPrune.height} (${formatAge((now - sidecar.lastPrune.at) / 1000)} ago)`,
    stateCell(sidecar),
  ]
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd()
}

/** The table, a pool summary line per pool, and the tracker's role on top. */
export function formatFleetTable(fleet: FleetView, now: number): string {
  const { tracker } = fleet
  const lines: string[] = []
  lines.push(
    `tracker ${tracker.id}: ${tracker.role}${tracker.epoch === null ? '' : ` (epoch ${tracker.epoch})`}, redis ${tracker.redis}`,
  )
  for (const pool of fleet.pools) {
    const height = pool.poolHeight === null ? (pool.poolHeightKey ?? 'unknown') : String(pool.poolHeight)
    const age =
      pool.ageSeconds === null ? '' : `, ${formatAge(pool.ageSeconds)} old${pool.stale ? ' (STALE)' : ''}`
    const error = pool.lastPollError === null ? '' : `, last poll failed: ${pool.lastPollError}`
    lines.push(
      `pool ${pool.chainId}/${pool.poolId}: height ${height}${age}; ${pool.byMode.normal} normal, ${pool.byMode.ghost} ghost, ${pool.silent} silent; budget ${pool.unavailable.length}/${pool.maxUnavailable} in use${pool.waiting > 0 ? `, ${pool.waiting} waiting` : ''}${error}`,
    )
  }
  if (tracker.orphans.length > 0) {
    lines.push(`silent sidecars of unknown pool (new commands wait): ${tracker.orphans.join(', ')}`)
  }
  lines.push('')
  const rows = fleet.sidecars.map((s) => row(s, now))
  if (rows.length === 0) {
    lines.push('no sidecars have reported')
    return lines.join('\n')
  }
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...rows.map((r) => r[i]?.length ?? 0)))
  lines.push(pad(HEADERS, widths))
  for (const r of rows) lines.push(pad(r, widths))
  return lines.join('\n')
}
