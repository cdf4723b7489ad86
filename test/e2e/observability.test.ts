import { readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { GHOSTFLEET_SERVICES, sidecarTags } from '@ghostfleet/discovery'
import { eventually, freePort, getJson, getText, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAIN_ID, ObservabilityFleet, POOL_ID, SIDECAR_ID, TRACKER_ID } from './observability-fleet.js'
import {
  asArray,
  asObject,
  asString,
  dashboardFiles,
  dashboardPanels,
  dashboardQueries,
  dashboardVariables,
  metricSelectors,
  OPERATOR_GUIDE,
  PROMETHEUS_CONFIG,
  PrometheusServer,
  type PromSample,
  parseLabelValues,
  promtool,
  type RuleDefinition,
  readRules,
  readYaml,
  repoPath,
  requirePrometheus,
  ruleFiles,
  substituteVariables,
  writeTestConfig,
} from './observability-kit.js'

/*
 * The operator's observability, proven on the real thing: promtool checks the production Prometheus config,
 * the rule files and both /metrics outputs; then a real Prometheus, configured from the production file,
 * scrapes a real tracker and a real sidecar (supervising a simulated node that goes ghost and gets pruned)
 * and every dashboard panel query, dashboard variable, recording rule and alert expression is evaluated
 * through its HTTP API. A renamed metric, a broken relabel rule or a typo in a panel fails here.
 */

/**
 * Debian's prometheus package (2.42, bookworm) is built without Consul service discovery ("Disable Consul SD
 * until its Debian package is back in shape", debian/changelog), so its promtool rejects `consul_sd_configs`
 * as an unknown field. Upstream builds accept it. This is the only failure tolerated from promtool, and only
 * when the same file minus those blocks passes.
 */
const DEBIAN_NO_CONSUL = /field consul_sd_configs not found in type config\.ScrapeConfig/

/**
 * prom-client's default process metrics (`collectDefaultMetrics`, exported with the `ghostfleet_` prefix by
 * @ghostfleet/telemetry) include three gauges whose names end in `_total`, which promtool's lint flags. They are
 * prom-client's names, not ours (packages/telemetry/README.md). Exactly these lines are tolerated; any other
 * lint problem, in particular one about a ghostfleet metric of the apps, fails the test.
 */
const PROM_CLIENT_DEFAULT_LINT = new Set(
  ['active_handles_total', 'active_requests_total', 'active_resources_total'].map(
    (name) => `ghostfleet_nodejs_${name} non-counter metrics should not have "_total" suffix`,
  ),
)

const SCRAPE_INTERVAL = '1s'
/**
 * The window substituted for Grafana's $__rate_interval. It spans the test fleet's whole life (the Prometheus of
 * this test holds nothing older), so panels over event-driven series (decision latency, commands) have the fleet's
 * events in range however the test is paced: a 10 s window made them NaN whenever the last decision was older
 * than 10 s, and 5 m was not enough when the suite ran beside others on a loaded machine.
 */
const RATE_INTERVAL = '1h'

let rules: RuleDefinition[] = []

beforeAll(() => {
  requirePrometheus()
  rules = ruleFiles().flatMap(readRules)
})

describe('promtool', () => {
  it('accepts the production prometheus.yml (and its rule files)', async () => {
    const result = promtool(['check', 'config', PROMETHEUS_CONFIG])
    const output = result.stdout + result.stderr
    if (result.code === 0) {
      expect(output).toMatch(/SUCCESS/)
      return
    }
    // Every problem reported must be Debian's missing Consul SD; anything else fails.
    const problems = output.split('\n').filter((line) => /^\s+line \d+:/.test(line))
    expect(output, output).toMatch(DEBIAN_NO_CONSUL)
    expect(problems.length).toBeGreaterThan(0)
    for (const problem of problems) expect(problem, output).toMatch(DEBIAN_NO_CONSUL)
    // Then the rest of the file must pass: the same config with only the consul_sd blocks removed.
    const dir = await tempDir('gf-promtool-')
    try {
      const config = asObject(readYaml(PROMETHEUS_CONFIG), 'prometheus.yml')
      for (const job of asArray(config['scrape_configs'], 'scrape_configs'))
        delete asObject(job, 'job')['consul_sd_configs']
      config['rule_files'] = ruleFiles()
      for (const job of asArray(config['scrape_configs'], 'scrape_configs')) {
        for (const sd of asArray(asObject(job, 'job')['file_sd_configs'] ?? [], 'file_sd_configs')) {
          const entry = asObject(sd, 'file_sd')
          entry['files'] = asArray(entry['files'], 'files').map((f) =>
            path.resolve(path.dirname(PROMETHEUS_CONFIG), asString(f, 'file')),
          )
        }
      }
      const file = path.join(dir.path, 'prometheus.yml')
      await writeFile(file, JSON.stringify(config))
      const rest = promtool(['check', 'config', file])
      expect(rest.code, rest.stdout + rest.stderr).toBe(0)
      expect(rest.stdout).toMatch(/SUCCESS: \d+ rules found/)
    } finally {
      await dir.remove()
    }
  })

  it('declares Consul discovery for exactly the services Ghostfleet registers, with valid fields', () => {
    // What promtool cannot check on Debian's build: the consul_sd_configs blocks, against the documented
    // fields of <consul_sd_config> in Prometheus 2.x.
    const documented = new Set([
      'server',
      'token',
      'datacenter',
      'namespace',
      'partition',
      'scheme',
      'username',
      'password',
      'services',
      'tags',
      'node_meta',
      'tag_separator',
      'allow_stale',
      'refresh_interval',
      'basic_auth',
      'authorization',
      'oauth2',
      'proxy_url',
      'no_proxy',
      'proxy_from_environment',
      'proxy_connect_header',
      'follow_redirects',
      'enable_http2',
      'tls_config',
      'filter',
    ])
    const config = asObject(readYaml(PROMETHEUS_CONFIG), 'prometheus.yml')
    const seen: string[] = []
    for (const raw of asArray(config['scrape_configs'], 'scrape_configs')) {
      const job = asObject(raw, 'job')
      for (const sd of asArray(job['consul_sd_configs'] ?? [], 'consul_sd_configs')) {
        const entry = asObject(sd, `${String(job['job_name'])}.consul_sd_configs[]`)
        for (const key of Object.keys(entry))
          expect(documented, `unknown consul_sd_config field ${key}`).toContain(key)
        expect(asString(entry['server'], 'server')).toMatch(/^[A-Za-z0-9.-]+:\d{1,5}$/)
        const services = asArray(entry['services'], 'services').map((s) => asString(s, 'service'))
        expect(services).toEqual([job['job_name']])
        seen.push(...services)
      }
    }
    expect(seen.sort()).toEqual([...GHOSTFLEET_SERVICES].sort())
  })

  it('accepts the rule files, and every alert is complete', async () => {
    const files = ruleFiles()
    expect(files.length).toBeGreaterThan(0)
    const result = promtool(['check', 'rules', ...files])
    expect(result.code, result.stdout + result.stderr).toBe(0)
    const guide = await readFile(OPERATOR_GUIDE, 'utf8')
    const anchors = new Set(
      [...guide.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
        (m[1] as string)
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 _-]/g, '')
          .replace(/ /g, '-'),
      ),
    )
    const alerts = rules.filter((r) => r.kind === 'alert')
    const required = [
      'GhostfleetSidecarDown',
      'GhostfleetNodeBehindPool',
      'GhostfleetNodeFarAheadInNormalMode',
      'GhostfleetPruneFailed',
      'GhostfleetKyveEndpointsDown',
      'GhostfleetNoTrackerLeader',
      'GhostfleetDataDirGrowing',
    ]
    expect(alerts.map((a) => a.name)).toEqual(expect.arrayContaining(required))
    for (const alert of alerts) {
      expect(['critical', 'warning'], alert.name).toContain(alert.labels['severity'])
      for (const key of ['summary', 'description', 'runbook', 'runbook_url']) {
        expect(alert.annotations[key], `${alert.name}: annotation ${key}`).toBeTruthy()
      }
      const url = alert.annotations['runbook_url'] as string
      expect(url, alert.name).toMatch(/^docs\/operator-guide\.md#/)
      const anchor = url.split('#')[1] as string
      expect(anchor).toBe(alert.name.toLowerCase())
      expect(anchors, `${alert.name}: no "${anchor}" heading in docs/operator-guide.md`).toContain(anchor)
    }
    // Alerts on gauges that flap (a scrape, a node RPC) wait before firing; counters over a window need not.
    for (const name of ['GhostfleetSidecarDown', 'GhostfleetNodeBehindPool', 'GhostfleetNoTrackerLeader']) {
      expect(alerts.find((a) => a.name === name)?.for, name).toMatch(/^\d+[smh]$/)
    }
  })
})

describe('Grafana provisioning', () => {
  it('loads the dashboards as they are: fixed datasource uid, unique ids, defined variables, sane layout', () => {
    const provisioned = asObject(
      readYaml(repoPath('docker/grafana/provisioning/datasources/prometheus.yml')),
      'ds',
    )
    const datasource = asObject(asArray(provisioned['datasources'], 'datasources')[0], 'datasource')
    expect(datasource['type']).toBe('prometheus')
    const uid = asString(datasource['uid'], 'uid')
    const files = dashboardFiles()
    expect(files.map((f) => path.basename(f)).sort()).toEqual([
      'ghostfleet-fleet.json',
      'ghostfleet-host.json',
    ])
    const uids = new Set<string>()
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      expect(text, file).not.toMatch(/\$\{DS_|__inputs|__requires/)
      const dashboard = asObject(JSON.parse(text), file)
      uids.add(asString(dashboard['uid'], 'uid'))
      const variables = new Set(dashboardVariables(file).map((v) => v.name))
      const ids = new Set<number>()
      for (const panel of dashboardPanels(file)) {
        const title = String(panel['title'])
        const id = Number(panel['id'])
        expect(ids.has(id), `${file}: panel id ${id} twice`).toBe(false)
        ids.add(id)
        const grid = asObject(panel['gridPos'], `${title}.gridPos`)
        expect(
          Number(grid['x']) + Number(grid['w']),
          `${title} wider than the dashboard`,
        ).toBeLessThanOrEqual(24)
        if (panel['type'] === 'row') continue
        expect(asObject(panel['datasource'], `${title}.datasource`)['uid'], title).toBe(uid)
        expect(String(panel['description'] ?? ''), `${title}: a description says what it watches`).not.toBe(
          '',
        )
        for (const target of asArray(panel['targets'], `${title}.targets`)) {
          const t = asObject(target, `${title}.target`)
          expect(asObject(t['datasource'], `${title}.target.datasource`)['uid'], title).toBe(uid)
          for (const m of asString(t['expr'], 'expr').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
            const name = m[1] as string
            if (name.startsWith('__')) continue
            expect(variables, `${title}: $${name} is not a variable of the dashboard`).toContain(name)
          }
        }
      }
    }
    expect(uids.size).toBe(files.length)
  })

  it('lays the panels out without overlaps', () => {
    for (const file of dashboardFiles()) {
      const boxes = dashboardPanels(file).map((p) => ({
        title: String(p['title']),
        ...(asObject(p['gridPos'], 'gridPos') as { x: number; y: number; w: number; h: number }),
      }))
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) {
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
          expect(overlap, `${path.basename(file)}: "${a.title}" overlaps "${b.title}"`).toBe(false)
        }
      }
    }
  })
})

describe('a real Prometheus scraping a real tracker and sidecar', () => {
  let fleet: ObservabilityFleet | undefined
  let prometheus: PrometheusServer | undefined
  let promDir: TempDir | undefined
  let sidecarInstance = ''
  let sidecarMetrics = ''
  let trackerMetrics = ''

  beforeAll(async () => {
    // Prometheus first, pointed at ports nothing listens on yet: it sees the whole run (the switch to ghost
    // mode, the prune), as it would in production, instead of counters that were already up when it started.
    fleet = await ObservabilityFleet.create()
    promDir = await tempDir('gf-prometheus-')
    await mkdir(path.join(promDir.path, 'targets'), { recursive: true })
    const promPort = await freePort()
    sidecarInstance = `127.0.0.1:${fleet.sidecarPort}`
    const configFile = await writeTestConfig({
      dir: promDir.path,
      scrapeInterval: SCRAPE_INTERVAL,
      prometheusAddress: `127.0.0.1:${promPort}`,
      consul: {
        'ghostfleet-sidecar': [
          {
            service: 'ghostfleet-sidecar',
            serviceId: SIDECAR_ID,
            address: '127.0.0.1',
            port: fleet.sidecarPort,
            tags: sidecarTags({ chainId: CHAIN_ID, poolId: POOL_ID, mode: 'ghost' }),
            node: 'host-a',
            meta: { version: '0.1.0' },
          },
        ],
        'ghostfleet-tracker': [
          {
            service: 'ghostfleet-tracker',
            serviceId: TRACKER_ID,
            address: '127.0.0.1',
            port: fleet.trackerPort,
            tags: [],
            node: 'host-t',
          },
        ],
      },
      // The same sidecar once more through the file_sd fallback, under another address, in the format
      // packages/discovery's FileDiscoverer reads (its `mode` label must not become a target label).
      fileTargets: {
        'sidecars.json': [
          {
            targets: [`localhost:${fleet.sidecarPort}`],
            labels: {
              sidecar_id: `${SIDECAR_ID}-file`,
              chain_id: CHAIN_ID,
              pool_id: String(POOL_ID),
              mode: 'ghost',
            },
          },
        ],
        'trackers.json': [],
      },
    })
    prometheus = await PrometheusServer.start({
      configFile,
      dataDir: path.join(promDir.path, 'data'),
      port: promPort,
    })
    const server = prometheus

    await fleet.boot()
    await eventually(
      async () => {
        const targets = await server.targets()
        const ghostfleet = targets.filter((t) => t.scrapePool.startsWith('ghostfleet-'))
        expect(ghostfleet.map((t) => `${t.scrapePool} ${t.health} ${t.lastError}`).sort()).toEqual([
          'ghostfleet-sidecar up ',
          'ghostfleet-sidecar up ',
          'ghostfleet-tracker up ',
        ])
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'every target scraped' },
    )
    await fleet.runScenario()
    sidecarMetrics = await getText(`${fleet.sidecarUrl}/metrics`)
    trackerMetrics = await getText(`${fleet.trackerUrl}/metrics`)
  }, 300_000)

  afterAll(async () => {
    await prometheus?.stop()
    await promDir?.remove()
    await fleet?.stop()
  }, 60_000)

  const server = (): PrometheusServer => {
    if (prometheus === undefined) throw new Error('prometheus did not start')
    return prometheus
  }

  it('the tracker follows the sidecar through its reports on Redis (the pool series depend on it)', async () => {
    const url = `${fleet?.trackerUrl}/v1/sidecars/${SIDECAR_ID}`
    const answer = await getJson(url)
    expect(
      answer?.status,
      `${url} → ${JSON.stringify(answer)}: without the sidecar's reports on Redis (fleet.redisUrl, fleet mode) the ` +
        'tracker has no pool, and none of its ghostfleet_tracker_pool_* series exist',
    ).toBe(200)
  })

  it('promtool check metrics accepts both /metrics outputs', () => {
    for (const [name, text] of [
      ['sidecar', sidecarMetrics],
      ['tracker', trackerMetrics],
    ] as const) {
      expect(text, name).toMatch(/^ghostfleet_/m)
      const result = promtool(['check', 'metrics'], text)
      const problems = (result.stdout + result.stderr)
        .split('\n')
        .filter((line) => line.trim() !== '' && !PROM_CLIENT_DEFAULT_LINT.has(line.trim()))
      expect(problems, `${name} /metrics`).toEqual([])
      // 3 is promtool's "lint problems found"; only the tolerated ones were found then.
      expect([0, 3], `${name}: promtool exit ${result.code}`).toContain(result.code)
    }
  })

  it('relabels the Consul and file_sd targets as the production config says', async () => {
    const targets = (await server().targets()).filter((t) => t.scrapePool === 'ghostfleet-sidecar')
    const viaConsul = targets.find((t) => t.labels['instance'] === sidecarInstance)
    const viaFile = targets.find((t) => t.labels['instance'] === `localhost:${fleet?.sidecarPort}`)
    expect(viaConsul?.labels).toMatchObject({
      job: 'ghostfleet-sidecar',
      sidecar_id: SIDECAR_ID,
      chain_id: CHAIN_ID,
      pool_id: String(POOL_ID),
      consul_node: 'host-a',
    })
    expect(viaFile?.labels).toMatchObject({
      sidecar_id: `${SIDECAR_ID}-file`,
      chain_id: CHAIN_ID,
      pool_id: '1',
    })
    for (const target of targets) expect(Object.keys(target.labels)).not.toContain('mode')
    const tracker = (await server().targets()).find((t) => t.scrapePool === 'ghostfleet-tracker')
    expect(tracker?.labels).toMatchObject({ tracker_id: TRACKER_ID, consul_node: 'host-t' })
    // honor_labels: the sidecar's own chain_id/pool_id are kept, never renamed to exported_*.
    const exported = await server().query('count({__name__=~"ghostfleet_.+", exported_chain_id!=""})')
    expect(exported).toEqual([])
  })

  it('loads every rule of the rule files with health "ok"', async () => {
    await eventually(
      async () => {
        const loaded = await server().rules()
        expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.name).sort())
        for (const rule of loaded) {
          expect(`${rule.name}: ${rule.health} ${rule.lastError ?? ''}`).toBe(`${rule.name}: ok `)
        }
      },
      { timeoutMs: 20_000, intervalMs: 250, description: 'every rule evaluated' },
    )
  })

  it('every recording rule produces series', async () => {
    for (const rule of rules.filter((r) => r.kind === 'record')) {
      await eventually(
        async () => expect((await server().query(rule.name)).length, rule.name).toBeGreaterThan(0),
        {
          timeoutMs: 20_000,
          intervalMs: 250,
          description: `recording rule ${rule.name}`,
        },
      )
    }
  })

  it('every dashboard variable has values', async () => {
    for (const file of dashboardFiles()) {
      for (const variable of dashboardVariables(file)) {
        const { match, label } = parseLabelValues(variable.query)
        const selector = substituteVariables(match, { chain: '.*', pool: '.*' })
        const values = await server().labelValues(label, selector)
        expect(
          values.length,
          `${path.basename(file)}: $${variable.name} (${variable.query})`,
        ).toBeGreaterThan(0)
        if (variable.name === 'instance') expect(values).toContain(sidecarInstance)
      }
    }
  })

  it('every dashboard panel query returns finite data', async () => {
    const values = { chain: '.*', pool: '.*', instance: sidecarInstance, __rate_interval: RATE_INTERVAL }
    const queries = dashboardFiles().flatMap(dashboardQueries)
    expect(queries.length).toBeGreaterThan(30)
    const empty: string[] = []
    for (const query of queries) {
      const expr = substituteVariables(query.expr, values)
      const what = `${query.dashboard} / ${query.panel} / ${query.refId}: ${expr}`
      try {
        await eventually(
          async () => {
            const result = await server().query(expr)
            expect(
              finite(result).length,
              `${what} → ${JSON.stringify(result).slice(0, 300)}`,
            ).toBeGreaterThan(0)
          },
          { timeoutMs: 5_000, intervalMs: 500, description: what },
        )
      } catch (error) {
        empty.push(error instanceof Error ? error.message : String(error))
      }
    }
    expect(empty).toEqual([])
  }, 600_000)

  it('every alert expression evaluates, and every metric it reads has data', async () => {
    const missing: string[] = []
    for (const alert of rules.filter((r) => r.kind === 'alert')) {
      // Evaluates without error (a result may be empty: most alerts are not firing).
      await server().query(alert.expr)
      const selectors = metricSelectors(alert.expr)
      expect(selectors.length, alert.name).toBeGreaterThan(0)
      for (const selector of selectors) {
        const result = await server().query(selector)
        if (result.length === 0) missing.push(`${alert.name}: ${selector}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('the alert conditions read what the scenario produced', async () => {
    // The scenario ended with the node in ghost mode, pruned, the pool known and one tracker leading: those
    // alerts that watch exactly this must be quiet, and their inverted conditions true.
    const q = (expr: string) => server().query(expr)
    expect(values(await q('sum(ghostfleet_tracker_leader)'))).toEqual([1])
    expect(await q(rules.find((r) => r.name === 'GhostfleetNoTrackerLeader')?.expr ?? '')).toEqual([])
    expect(values(await q(`ghostfleet_node_mode{mode="ghost", instance="${sidecarInstance}"}`))).toEqual([1])
    expect(
      values(
        await q(`increase(ghostfleet_prunes_total{outcome="ok", instance="${sidecarInstance}"}[1h]) > 0`),
      ).length,
    ).toBe(1)
    expect(await q(rules.find((r) => r.name === 'GhostfleetPruneFailed')?.expr ?? '')).toEqual([])
    // In fleet mode the tracker decided: it issued the switch and the prune, and the sidecar follows it.
    expect(
      values(await q(`ghostfleet_fleet_decided_by{source="tracker", instance="${sidecarInstance}"}`)),
    ).toEqual([1])
    // The raw counters, not increase(): the tracker creates a command counter series at its first increment,
    // so increase() cannot see that first command (its series starts at 1).
    for (const kind of ['switch', 'prune']) {
      const done = `ghostfleet_tracker_commands_total{kind="${kind}", outcome="done"}`
      expect(values(await q(done))[0], done).toBeGreaterThanOrEqual(1)
    }
    expect(
      values(await q(`ghostfleet_height_difference_blocks{instance="${sidecarInstance}"}`))[0],
    ).toBeGreaterThan(20)
  })
})

function finite(result: PromSample[]): PromSample[] {
  return result.filter((sample) => Number.isFinite(Number(sample.value[1])))
}

function values(result: PromSample[]): number[] {
  return result.map((sample) => Number(sample.value[1]))
}
