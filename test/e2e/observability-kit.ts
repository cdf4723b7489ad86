/**
 * Helpers for observability.test.ts and deploy.test.ts: the repository's deployment files, YAML reading,
 * promtool, a real Prometheus as a child process, and the PromQL and dashboard plumbing the tests need.
 *
 * YAML is read with Debian's python3-yaml (no YAML package is among the workspace's npm dependencies); promtool
 * and prometheus come from Debian's `prometheus` package. A missing tool fails the test that needs it with the
 * command that installs it: nothing is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, freePort, startProcess, type TestProcess } from '@ghostfleet/testkit'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const DOCKER_DIR = path.join(REPO, 'docker')
export const PROMETHEUS_DIR = path.join(DOCKER_DIR, 'prometheus')
export const PROMETHEUS_CONFIG = path.join(PROMETHEUS_DIR, 'prometheus.yml')
export const DASHBOARD_DIR = path.join(DOCKER_DIR, 'grafana', 'dashboards')
export const OPERATOR_GUIDE = path.join(REPO, 'docs', 'operator-guide.md')

export function repoPath(...parts: string[]): string {
  return path.join(REPO, ...parts)
}

// ------------------------------------------------------------------------------------------------ tools

/** Throws `hint` when `binary --version` cannot run. Returns the binary. */
export function requireTool(binary: string, hint: string): string {
  const result = spawnSync(binary, ['--version'], { stdio: 'pipe' })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`${binary} is not available: ${hint}`)
  }
  return binary
}

export function requirePrometheus(): void {
  const hint = 'install prometheus (apt-get install prometheus); .ci/run installs it when missing'
  requireTool('promtool', hint)
  requireTool('prometheus', hint)
}

const PYTHON_YAML_HINT = 'install python3-yaml (apt-get install python3-yaml): the tests read YAML with it'

/** Parses a YAML file (all of it, one document) into plain JSON values. */
export function readYaml(file: string): unknown {
  const script =
    'import json, sys, yaml\njson.dump(yaml.safe_load(open(sys.argv[1], encoding="utf-8")), sys.stdout)'
  let out: string
  try {
    out = execFileSync('python3', ['-c', script, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '')
    if (/No module named 'yaml'|ENOENT/.test(stderr + String(error))) throw new Error(PYTHON_YAML_HINT)
    throw new Error(`${file}: not valid YAML: ${stderr.trim() || String(error)}`)
  }
  return JSON.parse(out) as unknown
}

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown
}

export interface ToolResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs promtool with `args` (and `input` on stdin). */
export function promtool(args: string[], input?: string): ToolResult {
  const result = spawnSync('promtool', args, {
    input: input ?? '',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  if (result.error !== undefined) throw result.error
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

// ------------------------------------------------------------------------------------------------ types

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function asObject(value: unknown, where: string): JsonObject {
  if (!isObject(value)) throw new Error(`${where}: expected an object, got ${JSON.stringify(value)}`)
  return value
}

export function asArray(value: unknown, where: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected an array, got ${JSON.stringify(value)}`)
  return value as Json[]
}

export function asString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`)
  return value
}

// ------------------------------------------------------------------------------------------------ rules

export interface RuleDefinition {
  group: string
  kind: 'alert' | 'record'
  name: string
  expr: string
  for?: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

/** The rule files prometheus.yml loads (its `rule_files` globs, resolved against its directory). */
export function ruleFiles(
  config: JsonObject = asObject(readYaml(PROMETHEUS_CONFIG), 'prometheus.yml'),
): string[] {
  const patterns = asArray(config['rule_files'] ?? [], 'rule_files').map((p) => asString(p, 'rule_files[]'))
  const files: string[] = []
  for (const pattern of patterns) {
    const dir = path.dirname(path.resolve(PROMETHEUS_DIR, pattern))
    const glob = new RegExp(
      `^${path
        .basename(pattern)
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')}$`,
    )
    for (const entry of readdirSync(dir).sort()) if (glob.test(entry)) files.push(path.join(dir, entry))
  }
  return files
}

export function readRules(file: string): RuleDefinition[] {
  const doc = asObject(readYaml(file), file)
  const rules: RuleDefinition[] = []
  for (const [g, group] of asArray(doc['groups'], `${file}: groups`).entries()) {
    const groupObj = asObject(group, `${file}: groups[${g}]`)
    const groupName = asString(groupObj['name'], `${file}: groups[${g}].name`)
    for (const [r, rule] of asArray(groupObj['rules'], `${file}: ${groupName}.rules`).entries()) {
      const where = `${file}: ${groupName}.rules[${r}]`
      const ruleObj = asObject(rule, where)
      const alert = ruleObj['alert']
      const record = ruleObj['record']
      const definition: RuleDefinition = {
        group: groupName,
        kind: typeof alert === 'string' ? 'alert' : 'record',
        name: asString(alert ?? record, `${where}.alert/record`),
        expr: asString(ruleObj['expr'], `${where}.expr`),
        labels: stringMap(ruleObj['labels'], `${where}.labels`),
        annotations: stringMap(ruleObj['annotations'], `${where}.annotations`),
      }
      if (typeof ruleObj['for'] === 'string') definition.for = ruleObj['for']
      rules.push(definition)
    }
  }
  return rules
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {}
  const obj = asObject(value, where)
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, asString(v, `${where}.${k}`)]))
}

// ------------------------------------------------------------------------------------------------ PromQL

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
])
const KEYWORDS_AFTER = new Set(['offset', 'bool', 'inf', 'nan'])

/**
 * The vector selectors an expression reads (`name{matchers}`, without ranges or offsets), for checking that each
 * one returns data. Covers the PromQL this repository writes: functions and aggregations are recognised by the
 * `(` after their name, grouping clauses and string arguments are skipped.
 */
export function metricSelectors(expr: string): string[] {
  const text = expr
    .replace(/#[^\n]*/g, '')
    .replace(/\[[^\]]*\]/g, '') // range and subquery windows
    .replace(/\boffset\s+-?[0-9a-z]+/gi, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
  const found: string[] = []
  const token =
    /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?/g
  let match: RegExpExecArray | null
  for (;;) {
    match = token.exec(text)
    if (match === null) break
    if (match[0] === '') {
      token.lastIndex++
      continue
    }
    const [whole, name, braces] = match
    if (whole.startsWith('"') || whole.startsWith("'")) continue
    if (name === undefined && braces === undefined) continue
    if (name !== undefined && braces === undefined) {
      const rest = text.slice(token.lastIndex).trimStart()
      if (rest.startsWith('(')) continue // a function or an aggregation
      if (KEYWORDS.has(name) || KEYWORDS_AFTER.has(name.toLowerCase())) continue
      if (/^[0-9]/.test(name)) continue
    }
    found.push(`${name ?? ''}${braces ?? ''}`.replace(/\s+/g, ' '))
  }
  return [...new Set(found)]
}

// ------------------------------------------------------------------------------------------------ dashboards

export interface DashboardQuery {
  dashboard: string
  panel: string
  refId: string
  expr: string
}

export interface DashboardVariable {
  name: string
  query: string
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((e) => e.endsWith('.json'))
    .sort()
    .map((e) => path.join(DASHBOARD_DIR, e))
}

function panelsOf(dashboard: JsonObject): JsonObject[] {
  const out: JsonObject[] = []
  const visit = (list: Json[] | undefined) => {
    for (const p of list ?? []) {
      if (!isObject(p)) continue
      out.push(p)
      if (Array.isArray(p['panels'])) visit(p['panels'])
    }
  }
  visit(asArray(dashboard['panels'] ?? [], 'panels'))
  return out
}

export function dashboardPanels(file: string): JsonObject[] {
  return panelsOf(asObject(readJson(file), file))
}

export function dashboardQueries(file: string): DashboardQuery[] {
  const dashboard = asObject(readJson(file), file)
  const title = asString(dashboard['title'], `${file}: title`)
  const queries: DashboardQuery[] = []
  for (const panel of panelsOf(dashboard)) {
    if (panel['type'] === 'row') continue
    const panelTitle = asString(panel['title'], `${file}: panel title`)
    for (const target of asArray(panel['targets'] ?? [], `${panelTitle}.targets`)) {
      const t = asObject(target, `${panelTitle}.targets[]`)
      queries.push({
        dashboard: title,
        panel: panelTitle,
        refId: asString(t['refId'], `${panelTitle}.refId`),
        expr: asString(t['expr'], `${panelTitle}.expr`),
      })
    }
  }
  return queries
}

export function dashboardVariables(file: string): DashboardVariable[] {
  const dashboard = asObject(readJson(file), file)
  const templating = asObject(dashboard['templating'] ?? { list: [] }, `${file}: templating`)
  return asArray(templating['list'], `${file}: templating.list`).map((v, i) => {
    const variable = asObject(v, `${file}: templating.list[${i}]`)
    const query = variable['query']
    return {
      name: asString(variable['name'], `${file}: variable name`),
      query: isObject(query) ? asString(query['query'], 'variable query') : asString(query, 'variable query'),
    }
  })
}

/** Replaces Grafana variables (`$name`, `${name}`, `$__rate_interval`, …) with concrete values. */
export function substituteVariables(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{?(__[a-z_]+|[A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`no value for the variable ${whole} in ${expr}`)
    return value
  })
}

/** `label_values(metric{…}, label)` → the series selector and the label. */
export function parseLabelValues(query: string): { match: string; label: string } {
  const m = /^label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(query.trim())
  if (m === null) throw new Error(`not a label_values(metric, label) query: ${query}`)
  return { match: m[1] as string, label: m[2] as string }
}

// ------------------------------------------------------------------------------------------------ Prometheus

export interface PromSample {
  metric: Record<string, string>
  value: [number, string]
}

export interface PromTarget {
  labels: Record<string, string>
  discoveredLabels: Record<string, string>
  scrapePool: string
  scrapeUrl: string
  health: 'up' | 'down' | 'unknown'
  lastError: string
}

export interface PromRule {
  name: string
  type: 'alerting' | 'recording'
  health: string
  lastError?: string
  query: string
}

/** A real Prometheus server on a free loopback port, with its storage in `dataDir`. */
export class PrometheusServer {
  private constructor(
    readonly proc: TestProcess,
    readonly url: string,
  ) {}

  /** `port`: the one the config's self-scrape names (see {@link writeTestConfig}); a free one otherwise. */
  static async start(options: {
    configFile: string
    dataDir: string
    port?: number
  }): Promise<PrometheusServer> {
    const port = options.port ?? (await freePort())
    const proc = startProcess('prometheus', [
      `--config.file=${options.configFile}`,
      `--storage.tsdb.path=${options.dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ])
    const server = new PrometheusServer(proc, `http://127.0.0.1:${port}`)
    await eventually(
      async () => {
        if (proc.hasExited()) throw new Error(`prometheus exited: ${proc.output()}`)
        const response = await fetch(`${server.url}/-/ready`, { signal: AbortSignal.timeout(2_000) })
        if (response.status !== 200) throw new Error(`not ready: ${response.status}`)
      },
      { timeoutMs: 30_000, intervalMs: 100, description: 'prometheus to be ready' },
    )
    return server
  }

  private async api(pathAndQuery: string, body?: URLSearchParams): Promise<unknown> {
    const response = await fetch(`${this.url}${pathAndQuery}`, {
      method: body === undefined ? 'GET' : 'POST',
      body,
      signal: AbortSignal.timeout(10_000),
    })
    const json = asObject((await response.json()) as unknown, pathAndQuery)
    if (json['status'] !== 'success') {
      throw new PromQueryError(`${pathAndQuery}: ${String(json['errorType'])}: ${String(json['error'])}`)
    }
    return json['data']
  }

  /** An instant query; throws {@link PromQueryError} when Prometheus rejects or fails it. */
  async query(expr: string): Promise<PromSample[]> {
    const data = asObject(await this.api('/api/v1/query', new URLSearchParams({ query: expr })), expr)
    if (data['resultType'] === 'scalar') {
      const value = asArray(data['result'], expr)
      return [{ metric: {}, value: [Number(value[0]), String(value[1])] }]
    }
    return asArray(data['result'], expr) as unknown as PromSample[]
  }

  async targets(): Promise<PromTarget[]> {
    const data = asObject(await this.api('/api/v1/targets?state=active'), 'targets')
    return asArray(data['activeTargets'], 'activeTargets') as unknown as PromTarget[]
  }

  async rules(): Promise<PromRule[]> {
    const data = asObject(await this.api('/api/v1/rules'), 'rules')
    const rules: PromRule[] = []
    for (const group of asArray(data['groups'], 'groups')) {
      rules.push(...(asArray(asObject(group, 'group')['rules'], 'rules') as unknown as PromRule[]))
    }
    return rules
  }

  async labelValues(label: string, match: string): Promise<string[]> {
    const params = new URLSearchParams({ 'match[]': match })
    return (await this.api(`/api/v1/label/${label}/values?${params}`)) as string[]
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 10_000)
  }
}

export class PromQueryError extends Error {
  override readonly name = 'PromQueryError'
}

// ------------------------------------------------------------------------------------------------ test config

/** What Prometheus' Consul SD hands to relabeling for one service instance (documented `__meta_consul_*`). */
export interface ConsulInstance {
  serviceId: string
  service: string
  address: string
  port: number
  tags: string[]
  node: string
  meta?: Record<string, string>
}

/** One target group in file_sd JSON carrying exactly the labels Consul SD would attach. */
export function consulTargetGroup(instance: ConsulInstance): JsonObject {
  // https://prometheus.io/docs/prometheus/latest/configuration/configuration/#consul_sd_config: tags are
  // joined with the tag separator (",") and wrapped in it, so ",a,b," — which the relabel regexes rely on.
  const labels: Record<string, string> = {
    __meta_consul_address: instance.address,
    __meta_consul_dc: 'dc1',
    __meta_consul_health: 'passing',
    __meta_consul_node: instance.node,
    __meta_consul_service: instance.service,
    __meta_consul_service_address: instance.address,
    __meta_consul_service_id: instance.serviceId,
    __meta_consul_service_port: String(instance.port),
    __meta_consul_tagged_address_lan: instance.address,
    __meta_consul_tags: `,${instance.tags.join(',')},`,
  }
  for (const [key, value] of Object.entries(instance.meta ?? {})) {
    labels[`__meta_consul_service_metadata_${key}`] = value
  }
  return { targets: [`${instance.address}:${instance.port}`], labels }
}

export interface TestConfigOptions {
  /** Directory holding the test config, its file_sd files and the Consul stand-in files. */
  dir: string
  /** Job name → what Consul would list for it. */
  consul: Record<string, ConsulInstance[]>
  /** file_sd file base name (as matched by the production glob) → groups. */
  fileTargets: Record<string, JsonObject[]>
  scrapeInterval: string
  prometheusAddress: string
}

/**
 * The production prometheus.yml with what cannot run here swapped out and nothing else changed: every
 * `consul_sd_configs` becomes a `file_sd_configs` entry listing what Consul would return (same `__meta_consul_*`
 * labels, so the production relabel rules run on them), the file_sd globs and rule files point at absolute
 * paths, the intervals are short, and the self-scrape points at the test server.
 */
export async function writeTestConfig(options: TestConfigOptions): Promise<string> {
  const production = asObject(readYaml(PROMETHEUS_CONFIG), 'prometheus.yml')
  const config = JSON.parse(JSON.stringify(production)) as JsonObject
  const global = asObject(config['global'] ?? {}, 'global')
  global['scrape_interval'] = options.scrapeInterval
  global['evaluation_interval'] = options.scrapeInterval
  global['scrape_timeout'] = options.scrapeInterval
  config['global'] = global
  config['rule_files'] = ruleFiles(production)
  for (const [i, raw] of asArray(config['scrape_configs'], 'scrape_configs').entries()) {
    const job = asObject(raw, `scrape_configs[${i}]`)
    const name = asString(job['job_name'], `scrape_configs[${i}].job_name`)
    const fileSd: Json[] = []
    for (const [j, sd] of asArray(job['file_sd_configs'] ?? [], `${name}.file_sd_configs`).entries()) {
      const sdObj = asObject(sd, `${name}.file_sd_configs[${j}]`)
      const files = asArray(sdObj['files'], `${name}.file_sd_configs[${j}].files`).map((f) =>
        path.join(options.dir, 'targets', path.basename(asString(f, 'file'))),
      )
      fileSd.push({ ...sdObj, files, refresh_interval: '1s' })
    }
    if (job['consul_sd_configs'] !== undefined) {
      const file = path.join(options.dir, `consul-${name}.json`)
      await writeFile(file, JSON.stringify((options.consul[name] ?? []).map(consulTargetGroup), null, 2))
      fileSd.push({ files: [file], refresh_interval: '1s' })
      delete job['consul_sd_configs']
    }
    if (fileSd.length > 0) job['file_sd_configs'] = fileSd
    if (name === 'prometheus') job['static_configs'] = [{ targets: [options.prometheusAddress] }]
  }
  for (const [base, groups] of Object.entries(options.fileTargets)) {
    await writeFile(path.join(options.dir, 'targets', base), JSON.stringify(groups, null, 2))
  }
  const file = path.join(options.dir, 'prometheus.yml')
  // JSON is YAML: Prometheus reads it as it is.
  await writeFile(file, JSON.stringify(config, null, 2))
  return file
}
