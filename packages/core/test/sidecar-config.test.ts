import { describe, expect, it } from 'vitest'
import { parseWith, type SidecarConfig, sidecarConfigSchema } from '../src/index.js'
import { rejectLines } from './helpers.js'

/** What `ghostfleet-sidecar init` writes for an Osmosis data source, after TOML parsing. */
const minimal = {
  node: { binary: '/usr/local/bin/osmosisd', home: '/var/lib/osmosis', launcher: 'cosmovisor' },
  pool: { chainId: 'kyve-1', poolId: 1 },
  thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
}

const full = {
  node: {
    binary: '/usr/local/bin/cosmovisor',
    home: '/var/lib/osmosis',
    launcher: 'cosmovisor',
    flags: '--x-crisis-skip-assert-invariants',
    rpcEndpoint: 'http://10.0.0.5:26657',
    stopGraceSeconds: 120,
    output: 'file',
    logFile: '/var/log/osmosisd.log',
  },
  pool: {
    chainId: 'kyve-1',
    poolId: 1,
    endpoints: ['https://api.kyve.network', 'https://kyve-api.example.org/rest/'],
    maxPoolAgeSeconds: 900,
  },
  thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
  pruning: { enabled: true, intervalHours: 12, statePruning: false, forceCompact: true, margin: 10 },
  supervision: {
    intervalSeconds: 5,
    restartBackoffInitialSeconds: 2,
    restartBackoffMaxSeconds: 120,
    restartBackoffResetSeconds: 300,
  },
  http: { enabled: true, listen: '[::1]:26670' },
  gateway: { enabled: true, listen: '127.0.0.1:26671', upstreamTimeoutSeconds: 5 },
  peer: {
    listen: '0.0.0.0:26672',
    advertiseUrl: 'http://10.0.0.5:26672',
    maxConcurrent: 4,
    ratePerSecond: 20,
  },
  checkpoints: {
    dir: '/var/lib/ghostfleet-checkpoints',
    ttlSeconds: 1800,
    maxPinnedGiB: 20,
    maxTransfers: 3,
    transferMiBPerSecond: 200,
  },
  fleet: {
    redisUrl: 'rediss://:s3cret@redis.internal:6380/0',
    sidecarId: 'osmo-eu-1.a',
    trackerTimeoutSeconds: 30,
    reportIntervalSeconds: 2.5,
  },
}

describe('sidecarConfigSchema', () => {
  it('applies every default to a minimal config', () => {
    const config: SidecarConfig = parseWith(sidecarConfigSchema, minimal, 'config.toml')
    expect(config).toEqual({
      node: {
        binary: '/usr/local/bin/osmosisd',
        home: '/var/lib/osmosis',
        launcher: 'cosmovisor',
        flags: '',
        rpcEndpoint: 'http://127.0.0.1:26657',
        stopGraceSeconds: 60,
        output: 'inherit',
      },
      pool: { chainId: 'kyve-1', poolId: 1, endpoints: [], maxPoolAgeSeconds: 600 },
      thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
      pruning: { enabled: true, intervalHours: 24, statePruning: true, forceCompact: false, margin: 1 },
      supervision: {
        intervalSeconds: 10,
        restartBackoffInitialSeconds: 10,
        restartBackoffMaxSeconds: 300,
        restartBackoffResetSeconds: 600,
      },
      http: { enabled: true, listen: '127.0.0.1:26670' },
      gateway: { enabled: false, listen: '127.0.0.1:26671', upstreamTimeoutSeconds: 10 },
      peer: { maxConcurrent: 8, ratePerSecond: 50 },
      checkpoints: { ttlSeconds: 3600, maxPinnedGiB: 50, maxTransfers: 4, transferMiBPerSecond: 0 },
      fleet: { trackerTimeoutSeconds: 60, reportIntervalSeconds: 5 },
    })
  })

  it('fills defaults inside a partly written table', () => {
    const config = parseWith(sidecarConfigSchema, { ...minimal, pruning: { margin: 5 } }, 'config.toml')
    expect(config.pruning).toEqual({
      enabled: true,
      intervalHours: 24,
      statePruning: true,
      forceCompact: false,
      margin: 5,
    })
  })

  it('accepts a realistic full config unchanged', () => {
    expect(parseWith(sidecarConfigSchema, full, 'config.toml')).toEqual(full)
  })

  it('rejects unknown keys at every level, suggesting the key that was meant', () => {
    expect(rejectLines(sidecarConfigSchema, { ...minimal, pool: { chainId: 'kyve-1', poolid: 1 } })).toEqual([
      'config.toml: pool.poolId: expected an integer ≥ 0, but it is missing',
      'config.toml: pool: unknown key "poolid" (did you mean "poolId"?); allowed: chainId, poolId, endpoints, maxPoolAgeSeconds',
    ])
    expect(rejectLines(sidecarConfigSchema, { ...minimal, pruning: { interval_hours: 6 } })).toEqual([
      'config.toml: pruning: unknown key "interval_hours" (did you mean "intervalHours"?); allowed: enabled, intervalHours, statePruning, forceCompact, margin',
    ])
    expect(rejectLines(sidecarConfigSchema, { ...minimal, metrics: true })).toEqual([
      'config.toml: unknown key "metrics"; allowed: node, pool, thresholds, pruning, supervision, http, gateway, peer, checkpoints, fleet',
    ])
    expect(
      rejectLines(sidecarConfigSchema, { ...minimal, fleet: { redis_url: 'redis://h', sidecarID: 'a' } }),
    ).toEqual([
      'config.toml: fleet: unknown keys "redis_url" (did you mean "redisUrl"?), "sidecarID" (did you mean "sidecarId"?); allowed: redisUrl, redisUsername, redisPasswordFile, sidecarId, trackerTimeoutSeconds, reportIntervalSeconds',
    ])
  })

  it("suggests keys written in supervysor's snake_case, or with a small typo", () => {
    expect(
      rejectLines(sidecarConfigSchema, { ...minimal, supervision: { restart_backoff_max_seconds: 5 } })[0],
    ).toContain('unknown key "restart_backoff_max_seconds" (did you mean "restartBackoffMaxSeconds"?)')
    expect(rejectLines(sidecarConfigSchema, { ...minimal, pruning: { intervalHour: 5 } })[0]).toContain(
      'unknown key "intervalHour" (did you mean "intervalHours"?)',
    )
    expect(rejectLines(sidecarConfigSchema, { ...minimal, pruning: { schedule: 5 } })[0]).toContain(
      'unknown key "schedule"; allowed:',
    )
  })

  it('rejects missing required tables and keys', () => {
    const { thresholds: _dropped, ...noThresholds } = minimal
    expect(rejectLines(sidecarConfigSchema, noThresholds)).toEqual([
      'config.toml: thresholds: expected a table, but it is missing',
    ])
    expect(
      rejectLines(sidecarConfigSchema, { ...minimal, node: { binary: '/bin/osmosisd', home: '/h' } }),
    ).toEqual(['config.toml: node.launcher: expected one of "binary", "cosmovisor", but it is missing'])
  })

  it.each<[string, Record<string, unknown>, string]>([
    [
      'poolId as text',
      { pool: { chainId: 'kyve-1', poolId: 'abc' } },
      'pool.poolId: expected an integer ≥ 0, got "abc"',
    ],
    [
      'negative poolId',
      { pool: { chainId: 'kyve-1', poolId: -1 } },
      'pool.poolId: expected an integer ≥ 0, got -1',
    ],
    ['bad chain id', { pool: { chainId: 'kyve 1', poolId: 1 } }, 'pool.chainId: expected a chain id'],
    [
      'endpoint scheme',
      { pool: { chainId: 'kyve-1', poolId: 1, endpoints: ['ftp://api.kyve.network'] } },
      'pool.endpoints[0]: expected an http:// or https:// URL without query or fragment, got "ftp://api.kyve.network"',
    ],
    [
      'endpoint with query',
      { pool: { chainId: 'kyve-1', poolId: 1, endpoints: ['https://api.kyve.network?x=1'] } },
      'pool.endpoints[0]: expected an http:// or https:// URL',
    ],
    [
      'endpoints not a list',
      { pool: { chainId: 'kyve-1', poolId: 1, endpoints: 'https://api.kyve.network' } },
      'pool.endpoints: expected an array of URLs, got "https://api.kyve.network"',
    ],
    [
      'launcher',
      { node: { ...minimal.node, launcher: 'docker' } },
      'node.launcher: expected one of "binary", "cosmovisor", got "docker"',
    ],
    [
      'home with ~',
      { node: { ...minimal.node, home: '~/.osmosisd' } },
      'node.home: expected a full path: "~" is not expanded here, got "~/.osmosisd"',
    ],
    [
      'NUL in a path',
      { node: { ...minimal.node, binary: '/usr/bin/osmo\0sisd' } },
      'node.binary: expected a path without NUL characters',
    ],
    [
      'endpoint with surrounding space',
      { pool: { chainId: 'kyve-1', poolId: 1, endpoints: [' https://api.kyve.network'] } },
      'pool.endpoints[0]: expected an http:// or https:// URL without query or fragment, got " https://api.kyve.network"',
    ],
    [
      'empty binary',
      { node: { ...minimal.node, binary: '' } },
      'node.binary: expected a path (a non-empty string), got ""',
    ],
    [
      'rpc endpoint',
      { node: { ...minimal.node, rpcEndpoint: '127.0.0.1:26657' } },
      'node.rpcEndpoint: expected an http:// or https:// URL',
    ],
    [
      'grace 0',
      { node: { ...minimal.node, stopGraceSeconds: 0 } },
      'node.stopGraceSeconds: must be between 1 and 3600 seconds, got 0',
    ],
    [
      'output',
      { node: { ...minimal.node, output: 'syslog' } },
      'node.output: expected one of "inherit", "file", got "syslog"',
    ],
    [
      'output file without logFile',
      { node: { ...minimal.node, output: 'file' } },
      'node.logFile: logFile is required when output = "file"',
    ],
    [
      'logFile while inherit',
      { node: { ...minimal.node, logFile: '/var/log/x' } },
      'node.logFile: logFile is set but output = "inherit"',
    ],
    [
      'threshold text',
      { thresholds: { ...minimal.thresholds, keepRecent: '17280' } },
      'thresholds.keepRecent: expected a positive integer number of blocks, got "17280"',
    ],
    [
      'threshold 0',
      { thresholds: { ...minimal.thresholds, heightDifferenceMin: 0 } },
      'thresholds.heightDifferenceMin: expected a positive integer number of blocks, got 0',
    ],
    [
      'min ≥ max',
      { thresholds: { ...minimal.thresholds, heightDifferenceMin: 11520 } },
      'thresholds.heightDifferenceMin: heightDifferenceMin (11520) must be less than heightDifferenceMax (11520)',
    ],
    [
      'keepRecent < max',
      { thresholds: { ...minimal.thresholds, keepRecent: 100 } },
      'thresholds.keepRecent: keepRecent (100) must be at least heightDifferenceMax (11520)',
    ],
    [
      'interval 0',
      { pruning: { intervalHours: 0 } },
      'pruning.intervalHours: must be between 0.000278 and 336 hours (1 s to 14 days), got 0',
    ],
    ['margin 0', { pruning: { margin: 0 } }, 'pruning.margin: expected an integer ≥ 1, got 0'],
    ['margin fraction', { pruning: { margin: 1.5 } }, 'pruning.margin: expected an integer ≥ 1, got 1.5'],
    [
      'enabled as text',
      { pruning: { enabled: 'yes' } },
      'pruning.enabled: expected true or false, got "yes"',
    ],
    [
      'backoff order',
      { supervision: { restartBackoffInitialSeconds: 400 } },
      'supervision.restartBackoffInitialSeconds: restartBackoffInitialSeconds (400) must not exceed restartBackoffMaxSeconds (300)',
    ],
    ['listen without host', { http: { listen: ':26670' } }, 'http.listen: expected host:port'],
    ['listen port', { http: { listen: '127.0.0.1:70000' } }, 'http.listen: expected host:port'],
    [
      'redis without host',
      { fleet: { redisUrl: 'redis://' } },
      'fleet.redisUrl: expected a redis:// or rediss:// URL with a host, got "redis://"',
    ],
    [
      'redis without slashes',
      { fleet: { redisUrl: 'redis:localhost' } },
      'fleet.redisUrl: expected a redis://',
    ],
    [
      'redis scheme',
      { fleet: { redisUrl: 'http://redis:6379' } },
      'fleet.redisUrl: expected a redis:// or rediss:// URL with a host, got "http://redis:6379"',
    ],
    [
      'sidecar id',
      { fleet: { sidecarId: 'osmo eu 1' } },
      'fleet.sidecarId: expected a sidecar id: 1–64 characters from A-Z a-z 0-9 . _ -, got "osmo eu 1"',
    ],
    [
      'tracker timeout',
      { fleet: { trackerTimeoutSeconds: 5 } },
      'fleet.trackerTimeoutSeconds: trackerTimeoutSeconds (5) must be greater than reportIntervalSeconds (5)',
    ],
  ])('rejects %s with a message naming the path and value', (_name, patch, expected) => {
    const lines = rejectLines(sidecarConfigSchema, { ...minimal, ...patch })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`config.toml: ${expected}`)
  })

  it('masks the password of a rejected Redis URL', () => {
    const lines = rejectLines(sidecarConfigSchema, { ...minimal, fleet: { redisUrl: 'redis://:hunter2@' } })
    expect(lines.join('\n')).not.toContain('hunter2')
    expect(lines).toEqual([
      'config.toml: fleet.redisUrl: expected a redis:// or rediss:// URL with a host, got "redis://:***@"',
    ])
  })

  it('reports every problem in one pass, including cross-field ones next to field errors', () => {
    const lines = rejectLines(sidecarConfigSchema, {
      ...minimal,
      pool: { chainId: 'kyve-1', poolId: 'abc' },
      thresholds: { heightDifferenceMax: 100, heightDifferenceMin: 200, keepRecent: 150 },
      node: { ...minimal.node, output: 'file', stopGraceSeconds: -1 },
    })
    expect(lines).toEqual([
      'config.toml: node.stopGraceSeconds: must be between 1 and 3600 seconds, got -1',
      'config.toml: node.logFile: logFile is required when output = "file"',
      'config.toml: pool.poolId: expected an integer ≥ 0, got "abc"',
      'config.toml: thresholds.heightDifferenceMin: heightDifferenceMin (200) must be less than heightDifferenceMax (100), or the node would switch modes back and forth',
    ])
  })
})
