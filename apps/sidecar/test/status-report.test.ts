import { describe, expect, it } from 'vitest'
import type { ControllerSnapshot } from '../src/control/controller.js'
import { buildStatusReport, readiness } from '../src/http/status-report.js'
import { INITIAL_STATE } from '../src/state/sidecar-state.js'
import { NOW, nodeAt, poolAt, unreachable } from './helpers/observations.js'

function snapshot(over: Partial<ControllerSnapshot> = {}): ControllerSnapshot {
  return {
    activity: 'idle',
    state: { ...INITIAL_STATE },
    node: nodeAt(1100, 500),
    nodeProcess: { state: 'running', pid: 4242, uptimeMs: 90_000, crashRestarts: 0 },
    decision: null,
    lastTickAt: NOW,
    pool: {
      latest: poolAt(1000, NOW - 2_000),
      lastSuccessAt: NOW - 2_000,
      lastFailureAt: null,
      lastError: null,
      consecutiveFailures: 0,
      inFlight: false,
      nextAttemptAt: 0,
    },
    thresholds: { heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 },
    pruning: {
      enabled: true,
      disabledReason: null,
      intervalMs: 3_600_000,
      nextDueAt: NOW + 60_000,
      inProgress: null,
      lastRun: null,
      pendingVerification: null,
    },
    dataDir: { bytes: 123, measuredAt: NOW },
    errors: [],
    now: NOW,
    ...over,
  }
}

describe('readiness', () => {
  it('is 200 for a node in sync', () => {
    expect(readiness(snapshot(), 60_000)).toMatchObject({ status: 200, body: { status: 'ok' } })
  })

  it('is 422 for a normal-mode node that is catching up', () => {
    expect(readiness(snapshot({ node: nodeAt(1100, 500, true) }), 60_000)).toMatchObject({
      status: 422,
      body: { status: 'catching-up' },
    })
  })

  it('is 200 for a ghost node although it reports catching_up (it has no peers on purpose)', () => {
    const ghost = snapshot({ node: nodeAt(1100, 500, true), state: { ...INITIAL_STATE, mode: 'ghost' } })
    const result = readiness(ghost, 60_000)
    expect(result.status).toBe(200)
    expect(JSON.stringify(result.body)).toMatch(/ghost mode/)
  })

  it('is 503 with the reason when the node does not answer or does not run', () => {
    const down = readiness(snapshot({ node: unreachable('connect ECONNREFUSED') }), 60_000)
    expect(down).toMatchObject({ status: 503 })
    expect(JSON.stringify(down.body)).toMatch(/ECONNREFUSED/)
    const crashed = readiness(
      snapshot({ nodeProcess: { state: 'backoff', pid: null, uptimeMs: 0, crashRestarts: 3 } }),
      60_000,
    )
    expect(crashed).toMatchObject({ status: 503 })
    expect(JSON.stringify(crashed.body)).toMatch(/crashed/)
    const pruning = readiness(
      snapshot({
        activity: 'pruning',
        nodeProcess: { state: 'stopped', pid: null, uptimeMs: 0, crashRestarts: 0 },
      }),
      60_000,
    )
    expect(JSON.stringify(pruning.body)).toMatch(/prune/)
    expect(readiness(snapshot({ activity: 'stopping' }), 60_000).status).toBe(503)
  })

  it('reports a KYVE outage in the body without failing a node that serves', () => {
    const failing = snapshot({
      pool: {
        latest: poolAt(1000, NOW - 120_000),
        lastSuccessAt: NOW - 120_000,
        lastFailureAt: NOW - 1_000,
        lastError: 'cannot reach http://kyve: ECONNREFUSED',
        consecutiveFailures: 9,
        inFlight: false,
        nextAttemptAt: NOW + 5_000,
      },
    })
    const result = readiness(failing, 60_000)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ kyve: { condition: 'stale', consecutiveFailures: 9 } })
  })
})

describe('buildStatusReport', () => {
  it('shows mode, heights, pool age and endpoint, thresholds, targets, pruning and errors', () => {
    const report = buildStatusReport(
      snapshot({ errors: [{ at: NOW - 5_000, where: 'kyve', message: 'HTTP 500' }] }),
      {
        version: '9.9.9',
        chainId: 'kyve-1',
        poolId: 1,
        configDir: '/cfg',
        startedAt: NOW - 10_000,
        maxPoolAgeMs: 60_000,
      },
    )
    expect(report).toMatchObject({
      version: '9.9.9',
      mode: 'normal',
      node: { height: 1100, base: 500, reachable: true, process: { pid: 4242, uptimeSeconds: 90 } },
      pool: { height: 1000, ageSeconds: 2, endpoint: 'http://127.0.0.1:1317', api: { condition: 'ok' } },
      diff: 100,
      targets: { maxHeight: 1040, minHeight: 1020 },
      thresholds: { heightDifferenceMax: 40 },
      pruning: { enabled: true, nextDueAt: new Date(NOW + 60_000).toISOString() },
      dataDir: { bytes: 123 },
      lastErrors: [{ where: 'kyve', message: 'HTTP 500' }],
    })
  })
})
