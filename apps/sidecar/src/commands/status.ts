import { createNodeRpcClient, readNodeConfig } from '@ghostfleet/cometbft'
import { parseListenAddress, type SidecarConfig, ValidationError } from '@ghostfleet/core'
import { createKyveClient, resolveEndpoints } from '@ghostfleet/kyve'
import { z } from 'zod'
import { resolveConfigDir } from '../config/config-dir.js'
import { ConfigNotFoundError, loadSidecarConfig } from '../config/config-file.js'
import { observeNode } from '../control/node-observer.js'
import { nextPruneDueAt, retryAfterFailureMs } from '../control/prune-schedule.js'
import { type SidecarState, SidecarStateError, SidecarStateStore } from '../state/sidecar-state.js'
import { directoryBytes } from '../storage/directory-size.js'
import { pruningSupport } from '../storage/pruning-support.js'
import { formatBytes, formatDuration } from './format.js'
import type { Output } from './prune.js'

/*
 * `ghostfleet-sidecar status`: one screen for an operator. It reads the config and the persisted state, asks
 * the running sidecar (its /status), and when none answers asks the node and the KYVE API itself. It never
 * changes anything. Exit codes: 0 printed, 1 the config or state cannot be read.
 */

export interface StatusCommandOptions {
  config?: string
  json: boolean
}

/** The part of a running sidecar's /status this command prints (validated: it comes over HTTP). */
const liveStatusSchema = z.looseObject({
  mode: z.enum(['normal', 'ghost']),
  sidecar: z.looseObject({ activity: z.string(), uptimeSeconds: z.number() }),
  node: z.looseObject({
    reachable: z.boolean().nullable(),
    height: z.number().nullable(),
    base: z.number().nullable(),
    catchingUp: z.boolean().nullable(),
    error: z.string().nullable(),
    process: z.looseObject({
      pid: z.number().nullable(),
      uptimeSeconds: z.number(),
      crashRestarts: z.number(),
    }),
  }),
  pool: z.looseObject({
    height: z.number().nullable(),
    ageSeconds: z.number().nullable(),
    endpoint: z.string().nullable(),
    api: z.looseObject({ condition: z.string(), lastError: z.string().nullable() }),
  }),
  diff: z.number().nullable(),
  pruning: z.looseObject({
    nextDueAt: z.string().nullable(),
    enabled: z.boolean().optional(),
    reason: z.string().nullable().optional(),
  }),
  dataDir: z.looseObject({ bytes: z.number().nullable() }),
})

type LiveStatus = z.infer<typeof liveStatusSchema>

async function fetchLiveStatus(config: SidecarConfig): Promise<LiveStatus | null> {
  if (!config.http.enabled) return null
  const listen = parseListenAddress(config.http.listen)
  if (listen === null) return null
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}/status`
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
    if (!response.ok) return null
    const parsed = liveStatusSchema.safeParse(await response.json())
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

interface Report {
  configDir: string
  sidecarRunning: boolean
  mode: string
  modeSince: string | null
  node: {
    height: number | null
    base: number | null
    catchingUp: boolean | null
    error: string | null
    pid: number | null
  }
  pool: {
    chainId: string
    poolId: number
    height: number | null
    ageSeconds: number | null
    endpoint: string | null
    error: string | null
  }
  diff: number | null
  thresholds: SidecarConfig['thresholds']
  dataDirBytes: number | null
  lastPrune: SidecarState['lastPrune']
  nextPruneDueAt: string | null
  /** Whether the sidecar prunes this node, and why not (e.g. a db_backend other than goleveldb). */
  pruning: { enabled: boolean; reason: string | null }
}

export async function runStatus(options: StatusCommandOptions, output: Output): Promise<number> {
  const configDir = resolveConfigDir(options.config)
  let config: SidecarConfig
  let state: SidecarState
  try {
    config = (await loadSidecarConfig(configDir, process.env)).config
    state = await new SidecarStateStore(configDir).load()
  } catch (error) {
    if (
      error instanceof ConfigNotFoundError ||
      error instanceof ValidationError ||
      error instanceof SidecarStateError
    ) {
      output.err(`ghostfleet sidecar status: ${error.message}`)
      return 1
    }
    throw error
  }

  const live = await fetchLiveStatus(config)
  const report: Report = {
    configDir,
    sidecarRunning: live !== null,
    mode: live?.mode ?? state.mode,
    modeSince: state.modeChangedAt === null ? null : new Date(state.modeChangedAt).toISOString(),
    node: { height: null, base: null, catchingUp: null, error: null, pid: null },
    pool: {
      chainId: config.pool.chainId,
      poolId: config.pool.poolId,
      height: null,
      ageSeconds: null,
      endpoint: null,
      error: null,
    },
    diff: null,
    thresholds: config.thresholds,
    dataDirBytes: null,
    lastPrune: state.lastPrune,
    nextPruneDueAt: null,
    pruning: { enabled: config.pruning.enabled, reason: null },
  }
  if (live !== null) {
    report.node = {
      height: live.node.height,
      base: live.node.base,
      catchingUp: live.node.catchingUp,
      error: live.node.error,
      pid: live.node.process.pid,
    }
    report.pool = {
      ...report.pool,
      height: live.pool.height,
      ageSeconds: live.pool.ageSeconds,
      endpoint: live.pool.endpoint,
      error:
        live.pool.api.condition === 'ok'
          ? null
          : `${live.pool.api.condition}: ${live.pool.api.lastError ?? ''}`,
    }
    report.diff = live.diff
    report.dataDirBytes = live.dataDir.bytes
    report.nextPruneDueAt = live.pruning.nextDueAt
    if (live.pruning.enabled !== undefined)
      report.pruning = { enabled: live.pruning.enabled, reason: live.pruning.reason ?? null }
  } else {
    const node = await observeNode(
      createNodeRpcClient({ endpoint: config.node.rpcEndpoint, timeoutMs: 3_000 }),
    )
    if (node.reachable)
      report.node = { ...report.node, height: node.appHeight, base: node.base, catchingUp: node.catchingUp }
    else report.node.error = `${node.kind}: ${node.error}`
    const kyve = createKyveClient({
      chainId: config.pool.chainId,
      endpoints: resolveEndpoints(config.pool.chainId, config.pool.endpoints),
      deadlineMs: 10_000,
    })
    try {
      const pool = await kyve.getPool(config.pool.poolId)
      report.pool = { ...report.pool, height: pool.poolHeight, ageSeconds: 0, endpoint: pool.endpoint }
    } catch (error) {
      report.pool.error = (error as Error).message
    } finally {
      kyve.close()
    }
    if (report.node.height !== null && report.pool.height !== null)
      report.diff = report.node.height - report.pool.height
    try {
      const nodeConfig = await readNodeConfig(config.node.home)
      const support = pruningSupport(config.pruning.enabled, nodeConfig.dbBackend)
      report.pruning = { enabled: support.enabled, reason: support.detail }
      report.dataDirBytes = await directoryBytes(nodeConfig.dbPath)
    } catch {
      report.dataDirBytes = null
    }
    if (report.pruning.enabled && state.pruneClockStartedAt !== null) {
      const intervalMs = config.pruning.intervalHours * 3_600_000
      report.nextPruneDueAt = new Date(
        nextPruneDueAt({
          intervalMs,
          lastPruneAt: state.lastPrune?.at ?? null,
          lastAttemptAt: state.lastPruneAttemptAt,
          clockStartedAt: state.pruneClockStartedAt,
          retryAfterFailureMs: retryAfterFailureMs(intervalMs),
        }),
      ).toISOString()
    }
  }

  if (options.json) {
    output.out(JSON.stringify(report, null, 2))
    return 0
  }
  const t = config.thresholds
  const n = report.node
  const p = report.pool
  const lines = [
    `sidecar      ${report.sidecarRunning ? 'running' : 'not running (values read directly)'}  (${configDir})`,
    `mode         ${report.mode}${report.modeSince ? ` since ${report.modeSince}` : ''}`,
    `node         ${n.height === null ? `unreachable (${n.error})` : `height ${n.height}, base ${n.base}${n.catchingUp ? ', catching up' : ''}`}${n.pid ? `, pid ${n.pid}` : ''}`,
    `pool         ${p.chainId}/${p.poolId}: ${p.height === null ? `unknown (${p.error})` : `height ${p.height}${p.ageSeconds ? ` (${formatDuration(p.ageSeconds * 1000)} old)` : ''}${p.endpoint ? ` from ${p.endpoint}` : ''}`}${p.height !== null && p.error ? ` — ${p.error}` : ''}`,
    `diff         ${report.diff ?? 'unknown'} (ghost at ≥ ${t.heightDifferenceMax}, normal at ≤ ${t.heightDifferenceMin}; keep-recent ${t.keepRecent})`,
    `data         ${report.dataDirBytes === null ? 'unknown' : formatBytes(report.dataDirBytes)}`,
    `last prune   ${
      report.lastPrune === null
        ? 'never'
        : `${new Date(report.lastPrune.at).toISOString()}: ${report.lastPrune.fromBase} → ${report.lastPrune.toHeight} (${report.lastPrune.blocks} blocks, ${formatBytes(report.lastPrune.bytesBefore)} → ${formatBytes(report.lastPrune.bytesAfter)})`
    }`,
    `next prune   ${report.pruning.enabled ? (report.nextPruneDueAt ?? 'after the first start') + ' (in ghost mode)' : `pruning off${report.pruning.reason === null ? '' : `: ${report.pruning.reason}`}`}`,
  ]
  output.out(lines.join('\n'))
  return 0
}
