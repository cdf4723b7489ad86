import type { ReadinessResult } from '@ghostfleet/telemetry'
import type { ControllerSnapshot } from '../control/controller.js'

/*
 * What `/status` and `/readyz` say, built from one controller snapshot. Pure, so the wording and the status
 * codes are tested without a server.
 */

export interface StatusMeta {
  version: string
  chainId: string
  poolId: number
  configDir: string
  startedAt: number
  maxPoolAgeMs: number
}

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString()
const seconds = (ms: number): number => Math.round(ms / 100) / 10

/** The KYVE side in one word: `ok`, `failing` (calls fail, a fresh answer may remain), `stale`, `unknown`. */
export function kyveCondition(
  snapshot: ControllerSnapshot,
  maxPoolAgeMs: number,
): 'ok' | 'failing' | 'stale' | 'unknown' {
  const latest = snapshot.pool.latest
  if (latest === null) return snapshot.pool.consecutiveFailures > 0 ? 'failing' : 'unknown'
  if (snapshot.now - latest.fetchedAt > maxPoolAgeMs) return 'stale'
  return snapshot.pool.consecutiveFailures > 0 ? 'failing' : 'ok'
}

export function buildStatusReport(snapshot: ControllerSnapshot, meta: StatusMeta): Record<string, unknown> {
  const { state, node, pool } = snapshot
  const latest = pool.latest
  const poolHeight = latest?.poolHeight ?? null
  const nodeHeight = node?.reachable ? node.appHeight : null
  const lastRun = snapshot.pruning.lastRun
  return {
    version: meta.version,
    sidecar: {
      configDir: meta.configDir,
      startedAt: iso(meta.startedAt),
      uptimeSeconds: seconds(snapshot.now - meta.startedAt),
      activity: snapshot.activity,
      lastTickAt: iso(snapshot.lastTickAt),
    },
    mode: state.mode,
    modeSince: iso(state.modeChangedAt),
    modeReason: state.modeReason,
    decision:
      snapshot.decision === null
        ? null
        : {
            mode: snapshot.decision.mode,
            reason: snapshot.decision.reason,
            decidedBy: snapshot.decision.decidedBy,
            pruneRefusal: snapshot.decision.pruneRefusal,
          },
    node: {
      reachable: node?.reachable ?? null,
      height: nodeHeight,
      storeHeight: node?.reachable ? node.storeHeight : null,
      base: node?.reachable ? node.base : null,
      catchingUp: node?.reachable ? node.catchingUp : null,
      error: node !== null && !node.reachable ? `${node.kind}: ${node.error}` : null,
      observedAt: iso(node?.at),
      process: {
        state: snapshot.nodeProcess.state,
        pid: snapshot.nodeProcess.pid,
        uptimeSeconds: seconds(snapshot.nodeProcess.uptimeMs),
        crashRestarts: snapshot.nodeProcess.crashRestarts,
      },
    },
    pool: {
      chainId: meta.chainId,
      poolId: meta.poolId,
      height: poolHeight,
      key: latest?.poolHeightKey ?? null,
      status: latest?.status ?? null,
      endpoint: latest?.endpoint ?? null,
      fetchedAt: iso(latest?.fetchedAt),
      ageSeconds: latest ? seconds(snapshot.now - latest.fetchedAt) : null,
      maxAgeSeconds: seconds(meta.maxPoolAgeMs),
      api: {
        condition: kyveCondition(snapshot, meta.maxPoolAgeMs),
        consecutiveFailures: pool.consecutiveFailures,
        lastError: pool.lastError,
        lastSuccessAt: iso(pool.lastSuccessAt),
        lastFailureAt: iso(pool.lastFailureAt),
        nextAttemptAt: pool.nextAttemptAt > snapshot.now ? iso(pool.nextAttemptAt) : null,
      },
    },
    thresholds: snapshot.thresholds,
    diff: nodeHeight !== null && poolHeight !== null ? nodeHeight - poolHeight : null,
    targets:
      poolHeight === null
        ? null
        : {
            maxHeight: poolHeight + snapshot.thresholds.heightDifferenceMax,
            minHeight: poolHeight + snapshot.thresholds.heightDifferenceMin,
          },
    pruning: {
      enabled: snapshot.pruning.enabled,
      reason: snapshot.pruning.disabledReason,
      intervalHours: snapshot.pruning.intervalMs / 3_600_000,
      lastPrune: state.lastPrune === null ? null : { ...state.lastPrune, at: iso(state.lastPrune.at) },
      lastAttemptAt: iso(state.lastPruneAttemptAt),
      nextDueAt: iso(snapshot.pruning.nextDueAt),
      onlyInGhostMode: true,
      inProgress:
        snapshot.pruning.inProgress === null
          ? null
          : { height: snapshot.pruning.inProgress.height, since: iso(snapshot.pruning.inProgress.since) },
      lastRun:
        lastRun === null
          ? null
          : lastRun.outcome === 'failed'
            ? {
                outcome: 'failed',
                height: lastRun.height,
                error: lastRun.error.message,
                durationMs: lastRun.durationMs,
              }
            : { outcome: lastRun.outcome, height: lastRun.height, durationMs: lastRun.durationMs },
      pendingVerification: snapshot.pruning.pendingVerification?.height ?? null,
    },
    dataDir: { bytes: snapshot.dataDir.bytes, measuredAt: iso(snapshot.dataDir.measuredAt) },
    // Checkpoints donated to bootstrapping hosts; null when this sidecar does not donate.
    checkpoints: snapshot.checkpoints ?? null,
    lastErrors: snapshot.errors.map((error) => ({
      at: iso(error.at),
      where: error.where,
      message: error.message,
    })),
  }
}

/**
 * `/readyz`: can the KYVE protocol node read from this data source right now?
 * - 503: the node does not answer (down, restarting after a crash, stopped for a prune or a mode switch), or the
 *   sidecar is starting or shutting down;
 * - 422: the node answers but is catching up in normal mode;
 * - 200: it answers and is in sync — or it is a ghost: a ghost node reports catching_up by construction (it has
 *   no peers), yet it is by definition at least heightDifferenceMax blocks ahead of the pool and serves every
 *   height the pool needs; reporting it as not ready would page for the intended steady state.
 * The body always says why, and carries the KYVE condition (a KYVE outage does not stop the node from serving,
 * so it does not change the code, but it is shown).
 */
export function readiness(snapshot: ControllerSnapshot, maxPoolAgeMs: number): ReadinessResult {
  const { node, state } = snapshot
  const kyve = {
    condition: kyveCondition(snapshot, maxPoolAgeMs),
    consecutiveFailures: snapshot.pool.consecutiveFailures,
    lastError: snapshot.pool.lastError,
    poolHeightAgeSeconds: snapshot.pool.latest
      ? seconds(snapshot.now - snapshot.pool.latest.fetchedAt)
      : null,
  }
  const base = { mode: state.mode, activity: snapshot.activity, kyve }
  if (snapshot.activity === 'stopping' || snapshot.activity === 'stopped') {
    return { status: 503, body: { status: 'unavailable', reason: 'the sidecar is shutting down', ...base } }
  }
  if (snapshot.nodeProcess.state !== 'running') {
    const why =
      snapshot.activity === 'pruning'
        ? 'the node is stopped for a prune'
        : snapshot.activity === 'switching'
          ? 'the node is restarting for a mode switch'
          : snapshot.activity === 'donating'
            ? 'the node is stopped to take a checkpoint for a bootstrapping host'
            : snapshot.nodeProcess.state === 'backoff'
              ? 'the node crashed and waits for its restart'
              : `the node process is ${snapshot.nodeProcess.state}`
    return { status: 503, body: { status: 'unavailable', reason: why, ...base } }
  }
  if (node === null) {
    return {
      status: 503,
      body: { status: 'unavailable', reason: 'the node has not been observed yet', ...base },
    }
  }
  if (!node.reachable) {
    return {
      status: 503,
      body: { status: 'unavailable', reason: `node RPC ${node.kind}: ${node.error}`, ...base },
    }
  }
  const heights = { height: node.appHeight, base: node.base, catchingUp: node.catchingUp }
  if (node.catchingUp && state.mode === 'normal') {
    return {
      status: 422,
      body: { status: 'catching-up', reason: 'the node is catching up', node: heights, ...base },
    }
  }
  return {
    status: 200,
    body: {
      status: 'ok',
      reason:
        state.mode === 'ghost'
          ? 'ghost mode: not syncing on purpose, serving every height the pool needs'
          : 'the node is in sync',
      node: heights,
      ...base,
    },
  }
}
