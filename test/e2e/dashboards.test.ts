/**
 * The Grafana dashboards against `@grafana/schema`, the types Grafana itself generates from its dashboard schema:
 * each file is parsed by a zod schema whose output TypeScript checks to be a `Dashboard` of that package (so the
 * fields it requires, the variable types and the link types are Grafana's, not a guess), and every reference inside
 * resolves: each datasource uid to a provisioned datasource, a built-in one or a datasource variable, and each
 * `$variable` in a query, a title or a variable's own query to a variable defined earlier (Grafana resolves chained
 * variables in order) or a built-in `$__…` one. The queries themselves are checked against a real Prometheus in
 * observability.test.ts.
 */
import path from 'node:path'
import type { Dashboard, DataSourceRef, VariableType } from '@grafana/schema'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  asArray,
  asObject,
  asString,
  DOCKER_DIR,
  dashboardFiles,
  readJson,
  readYaml,
} from './observability-kit.js'

const VARIABLE_TYPES = [
  'query',
  'adhoc',
  'groupby',
  'constant',
  'datasource',
  'interval',
  'textbox',
  'custom',
  'system',
  'snapshot',
  'switch',
] as const satisfies readonly VariableType[]
// Grafana's list, and only it: a type the schema gains or drops fails the typecheck here.
type Missing = Exclude<VariableType, (typeof VARIABLE_TYPES)[number]>
const noneMissing: Missing[] = []

/** Uids Grafana itself provides. */
const BUILT_IN_DATASOURCES = new Set(['-- Grafana --', 'grafana', '-- Mixed --', '-- Dashboard --'])

const dataSourceRef = z.object({ type: z.string().optional(), uid: z.string().optional() })
const gridPos = z.object({
  h: z.number(),
  w: z.number(),
  x: z.number(),
  y: z.number(),
  static: z.boolean().optional(),
})
const target = z.record(z.string(), z.unknown())
const panel = z.looseObject({
  type: z.string().refine((t) => t !== 'row', 'a row nested in a row'),
  id: z.number().optional(),
  title: z.string().optional(),
  datasource: dataSourceRef.optional(),
  gridPos: gridPos.optional(),
  targets: z.array(target).optional(),
  fieldConfig: z
    .looseObject({
      defaults: z.looseObject({}),
      overrides: z.array(
        z.looseObject({
          matcher: z.looseObject({ id: z.string() }),
          properties: z.array(z.looseObject({ id: z.string() })),
        }),
      ),
    })
    .optional(),
  options: z.record(z.string(), z.unknown()).optional(),
})
const rowPanel = z.looseObject({
  type: z.literal('row'),
  id: z.number(),
  collapsed: z.boolean(),
  title: z.string().optional(),
  gridPos: gridPos.optional(),
  datasource: dataSourceRef.optional(),
  panels: z.array(panel),
})
const variableOption = z.object({
  text: z.union([z.string(), z.array(z.string())]),
  value: z.union([z.string(), z.array(z.string())]),
  selected: z.boolean().optional(),
})
const variable = z.looseObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name Grafana can substitute'),
  type: z.enum(VARIABLE_TYPES),
  label: z.string().optional(),
  datasource: dataSourceRef.nullable().optional(),
  query: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  current: variableOption.optional(),
  options: z.array(variableOption).optional(),
  includeAll: z.boolean().optional(),
  multi: z.boolean().optional(),
  allValue: z.string().optional(),
  regex: z.string().optional(),
})
const dashboardLink = z.looseObject({
  title: z.string(),
  type: z.enum(['link', 'dashboards']),
  icon: z.string(),
  tooltip: z.string(),
  url: z.string().optional(),
  tags: z.array(z.string()),
  asDropdown: z.boolean(),
  targetBlank: z.boolean(),
  includeVars: z.boolean(),
  keepTime: z.boolean(),
})
const annotation = z.looseObject({
  name: z.string(),
  enable: z.boolean(),
  iconColor: z.string(),
  hide: z.boolean().optional(),
  datasource: dataSourceRef.nullable().optional(),
})

/** What the files hold; its output must be a `Dashboard` of @grafana/schema (checked where it is used). */
const dashboardSchema = z.looseObject({
  uid: z.string().min(1).max(40),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  editable: z.boolean().optional(),
  graphTooltip: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  refresh: z.string().optional(),
  schemaVersion: z.number().int(),
  version: z.number().optional(),
  time: z.object({ from: z.string(), to: z.string() }).optional(),
  timezone: z.string().optional(),
  fiscalYearStartMonth: z.number().optional(),
  liveNow: z.boolean().optional(),
  weekStart: z.string().optional(),
  links: z.array(dashboardLink).optional(),
  annotations: z.object({ list: z.array(annotation).optional() }).optional(),
  templating: z.object({ list: z.array(variable).optional() }).optional(),
  panels: z.array(z.union([rowPanel, panel])).optional(),
})

function parseDashboard(file: string): Dashboard {
  const parsed = dashboardSchema.safeParse(readJson(file))
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new Error(`${path.basename(file)} is not a Grafana dashboard:\n${issues.join('\n')}`)
  }
  // The assignment is the typed check: the zod output must fit @grafana/schema's Dashboard.
  const dashboard: Dashboard = parsed.data
  return dashboard
}

/** The uids of docker/grafana/provisioning/datasources/*.yml. */
function provisionedDatasourceUids(): Set<string> {
  const file = path.join(DOCKER_DIR, 'grafana', 'provisioning', 'datasources', 'prometheus.yml')
  const provisioning = asObject(readYaml(file), file)
  return new Set(
    asArray(provisioning['datasources'], `${file}: datasources`).map((d, i) =>
      asString(asObject(d, `${file}: datasources[${i}]`)['uid'], `${file}: datasources[${i}].uid`),
    ),
  )
}

/** `$name`, `${name}`, `${name:format}`, `[[name]]` (Grafana's variable syntaxes) in `text`. */
function variablesIn(text: string): string[] {
  const names: string[] = []
  for (const m of text.matchAll(
    /\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]/g,
  ))
    names.push(m[1] ?? m[2] ?? m[3] ?? '')
  return names
}

type AnyPanel = NonNullable<Dashboard['panels']>[number]

function allPanels(dashboard: Dashboard): AnyPanel[] {
  return (dashboard.panels ?? []).flatMap((p) => (p.type === 'row' && 'panels' in p ? [p, ...p.panels] : [p]))
}

/** Every unresolved reference of a dashboard, described; empty when all resolve. */
function unresolvedReferences(dashboard: Dashboard, datasources: Set<string>): string[] {
  const problems: string[] = []
  const variables = dashboard.templating?.list ?? []
  const datasourceVariables = new Set(variables.filter((v) => v.type === 'datasource').map((v) => v.name))
  const checkRef = (where: string, ref: DataSourceRef | null | undefined) => {
    if (ref === undefined || ref === null) return
    const uid = ref.uid
    if (uid === undefined) return problems.push(`${where}: a datasource without a uid`)
    const variableName = variablesIn(uid)[0]
    if (variableName !== undefined) {
      if (!datasourceVariables.has(variableName))
        problems.push(`${where}: datasource ${uid} is no datasource variable`)
    } else if (!datasources.has(uid) && !BUILT_IN_DATASOURCES.has(uid)) {
      problems.push(`${where}: datasource uid ${JSON.stringify(uid)} is not provisioned`)
    }
  }
  const checkText = (where: string, text: string, known: Set<string>) => {
    for (const name of variablesIn(text))
      if (!name.startsWith('__') && !known.has(name)) problems.push(`${where}: $${name} is not defined`)
  }

  const defined = new Set<string>()
  for (const v of variables) {
    checkRef(`variable ${v.name}`, v.datasource)
    const query = typeof v.query === 'string' ? v.query : JSON.stringify(v.query ?? '')
    checkText(`variable ${v.name}`, query, defined)
    defined.add(v.name)
  }
  for (const a of dashboard.annotations?.list ?? []) checkRef(`annotation ${a.name}`, a.datasource)
  for (const p of allPanels(dashboard)) {
    const where = `panel ${JSON.stringify(p.title ?? p.type)}`
    checkRef(where, p.datasource)
    checkText(where, p.title ?? '', defined)
    if (p.repeat !== undefined && !defined.has(p.repeat)) problems.push(`${where}: repeats over $${p.repeat}`)
    const targets = 'targets' in p ? (p.targets ?? []) : []
    for (const t of targets) {
      const ref = t['datasource'] as DataSourceRef | undefined
      checkRef(`${where} target ${String(t['refId'])}`, ref)
      if (typeof t['expr'] === 'string')
        checkText(`${where} target ${String(t['refId'])}`, t['expr'], defined)
      if (typeof t['legendFormat'] === 'string')
        checkText(`${where} legend ${String(t['refId'])}`, t['legendFormat'], defined)
    }
  }
  return problems
}

describe('the Grafana dashboards', () => {
  const files = dashboardFiles()
  const datasources = provisionedDatasourceUids()

  it('exist, and the Grafana schema knows every variable type', () => {
    expect(files.length).toBeGreaterThan(0)
    expect(noneMissing).toEqual([])
  })

  it.each(files.map((f) => [path.basename(f), f]))('%s is a Dashboard of @grafana/schema', (_name, file) => {
    const dashboard = parseDashboard(file)
    expect(dashboard.schemaVersion).toBeGreaterThan(0)
    // Panel ids are how Grafana links to a panel (and a repeated id makes it drop one).
    const ids = allPanels(dashboard).map((p) => p.id)
    expect(ids.every((id) => typeof id === 'number')).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it.each(files.map((f) => [path.basename(f), f]))(
    '%s: every datasource and variable resolves',
    (_name, file) => {
      const dashboard = parseDashboard(file)
      const panels = allPanels(dashboard).filter((p) => p.type !== 'row')
      expect(panels.length).toBeGreaterThan(0)
      expect(unresolvedReferences(dashboard, datasources)).toEqual([])
    },
  )

  it('the checks catch what they guard: an unknown uid, an undefined or later variable, a wrong field', () => {
    const dashboard = parseDashboard(files[0] ?? '')
    const broken = structuredClone(dashboard)
    const first = allPanels(broken).find((p) => p.type !== 'row' && 'targets' in p)
    if (first === undefined || !('targets' in first) || first.targets?.[0] === undefined)
      throw new Error('no panel with a query')
    first.datasource = { type: 'prometheus', uid: 'no-such-datasource' }
    first.targets[0]['expr'] = 'up{job=~"$nosuchvariable"}'
    const variables = broken.templating?.list ?? []
    variables.reverse()
    const problems = unresolvedReferences(broken, datasources).join('\n')
    expect(problems).toContain('"no-such-datasource" is not provisioned')
    expect(problems).toContain('$nosuchvariable is not defined')
    if (variables.length > 1) expect(problems).toMatch(/variable \w+: \$\w+ is not defined/)
    expect(dashboardSchema.safeParse({ ...broken, schemaVersion: '39' }).success).toBe(false)
    expect(
      dashboardSchema.safeParse({ ...broken, templating: { list: [{ name: 'x', type: 'nonsense' }] } })
        .success,
    ).toBe(false)
  })
})
