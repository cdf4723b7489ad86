import { readFile } from 'node:fs/promises'
import { parse as parseToml, TomlError } from 'smol-toml'
import { z } from 'zod'

/*
 * Reading an existing supervysor `config.toml` (`~/.supervysor/config.toml`, Go field names of
 * `types.SupervysorConfig`) into the values `init` needs, with one line per field saying where it went.
 */

/** What an import (or the command line) contributes to `init`. Absent keys were not given. */
export interface InitInputs {
  binary?: string
  home?: string
  launcher?: 'binary' | 'cosmovisor'
  poolId?: number
  chainId?: string
  endpoints?: string[]
  seeds?: string
  rpcEndpoint?: string
  intervalSeconds?: number
  pruningEnabled?: boolean
  pruningIntervalHours?: number
  statePruning?: boolean
  httpEnabled?: boolean
  httpPort?: number
  thresholdOverrides?: { heightDifferenceMax?: number; heightDifferenceMin?: number }
}

/** The supervysor config cannot be used; nothing was written. */
export class SupervysorImportError extends Error {
  override readonly name = 'SupervysorImportError'
}

const int = z.number().int()
const supervysorSchema = z.looseObject({
  ABCIEndpoint: z.string().optional(),
  BinaryPath: z.string().optional(),
  ChainId: z.string().optional(),
  HeightDifferenceMax: int.optional(),
  HeightDifferenceMin: int.optional(),
  HomePath: z.string().optional(),
  Interval: int.optional(),
  Metrics: z.boolean().optional(),
  MetricsPort: int.optional(),
  PoolEndpoints: z.string().optional(),
  PoolId: int.optional(),
  PruningInterval: int.optional(),
  Seeds: z.string().optional(),
  StatePruning: z.boolean().optional(),
  StateRequests: z.boolean().optional(),
})

const KNOWN = new Set(Object.keys(supervysorSchema.shape))

export interface SupervysorImport {
  inputs: InitInputs
  /** One line per field: what it became, or why it was not used. */
  notes: string[]
}

/** supervysor launched cosmovisor when the binary path ended in `/cosmovisor` (`node/node.go`). */
function launcherOf(binary: string): 'binary' | 'cosmovisor' {
  return binary === 'cosmovisor' || binary.endsWith('/cosmovisor') ? 'cosmovisor' : 'binary'
}

/** Maps a parsed supervysor config; pure. */
export function mapSupervysorConfig(raw: unknown, file: string): SupervysorImport {
  const parsed = supervysorSchema.safeParse(raw)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new SupervysorImportError(`${file} is not a supervysor config: ${lines.join('; ')}`)
  }
  const c = parsed.data
  const inputs: InitInputs = {}
  const notes: string[] = []
  if (c.BinaryPath) {
    inputs.binary = c.BinaryPath
    inputs.launcher = launcherOf(c.BinaryPath)
    notes.push(`BinaryPath → node.binary = ${c.BinaryPath} (launcher ${inputs.launcher})`)
  }
  if (c.HomePath) {
    inputs.home = c.HomePath
    notes.push(`HomePath → node.home = ${c.HomePath}`)
  }
  if (c.PoolId !== undefined) {
    inputs.poolId = c.PoolId
    notes.push(`PoolId → pool.poolId = ${c.PoolId}`)
  }
  if (c.ChainId) {
    inputs.chainId = c.ChainId
    notes.push(`ChainId → pool.chainId = ${c.ChainId}`)
  }
  if (c.PoolEndpoints !== undefined) {
    const endpoints = c.PoolEndpoints.split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    if (endpoints.length > 0) {
      inputs.endpoints = endpoints
      notes.push(`PoolEndpoints → pool.endpoints = ${endpoints.join(', ')}`)
    } else notes.push('PoolEndpoints is empty → pool.endpoints = [] (the chain preset endpoints)')
  }
  if (c.Seeds !== undefined && c.Seeds.trim() !== '') {
    inputs.seeds = c.Seeds.trim()
    notes.push('Seeds → passed as --p2p.seeds in normal mode (node.flags); ghost mode drops them')
  }
  if (c.ABCIEndpoint) {
    inputs.rpcEndpoint = c.ABCIEndpoint.replace(/\/+$/, '')
    notes.push(`ABCIEndpoint → node.rpcEndpoint = ${inputs.rpcEndpoint}`)
  }
  if (c.Interval !== undefined && c.Interval > 0) {
    inputs.intervalSeconds = c.Interval
    notes.push(`Interval → supervision.intervalSeconds = ${c.Interval}`)
  }
  if (c.PruningInterval !== undefined) {
    if (c.PruningInterval <= 0) {
      inputs.pruningEnabled = false
      notes.push('PruningInterval = 0 → pruning.enabled = false (supervysor did not prune)')
    } else {
      inputs.pruningIntervalHours = c.PruningInterval
      notes.push(`PruningInterval → pruning.intervalHours = ${c.PruningInterval}`)
    }
  }
  if (c.StatePruning !== undefined) {
    inputs.statePruning = c.StatePruning
    notes.push(`StatePruning → pruning.statePruning = ${c.StatePruning}`)
  }
  if (c.Metrics === true) {
    inputs.httpEnabled = true
    if (c.MetricsPort !== undefined && c.MetricsPort > 0 && c.MetricsPort < 65_536)
      inputs.httpPort = c.MetricsPort
    notes.push(
      `Metrics = true, MetricsPort → http.listen = 127.0.0.1:${inputs.httpPort ?? 26670} ` +
        '(/metrics, plus /livez, /readyz, /status; metric names are ghostfleet_*, see the README)',
    )
  } else if (c.Metrics === false) {
    notes.push(
      'Metrics = false → not mapped: the loopback HTTP server (health, status, metrics) stays on; set ' +
        'http.enabled = false to turn it off',
    )
  }
  const overrides: { heightDifferenceMax?: number; heightDifferenceMin?: number } = {}
  if (c.HeightDifferenceMax !== undefined && c.HeightDifferenceMax > 0)
    overrides.heightDifferenceMax = c.HeightDifferenceMax
  if (c.HeightDifferenceMin !== undefined && c.HeightDifferenceMin > 0)
    overrides.heightDifferenceMin = c.HeightDifferenceMin
  if (Object.keys(overrides).length > 0) {
    inputs.thresholdOverrides = overrides
    notes.push(
      `HeightDifferenceMax/Min → thresholds.heightDifferenceMax/Min = ${overrides.heightDifferenceMax ?? '(computed)'}/` +
        `${overrides.heightDifferenceMin ?? '(computed)'} (kept as supervysor had them; keepRecent is computed ` +
        'from the pool)',
    )
  }
  if (c.StateRequests !== undefined) notes.push('StateRequests → not used (supervysor never read it)')
  for (const key of Object.keys(c)) {
    if (!KNOWN.has(key)) notes.push(`${key} → unknown supervysor field, ignored`)
  }
  return { inputs, notes }
}

/** Reads and maps a supervysor config file. @throws {@link SupervysorImportError} */
export async function importSupervysorConfig(file: string): Promise<SupervysorImport> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new SupervysorImportError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    )
  }
  let raw: unknown
  try {
    raw = parseToml(text)
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line})` : ''
    throw new SupervysorImportError(
      `${file} is not valid TOML${where}: ${(error as Error).message.split('\n')[0]}`,
    )
  }
  return mapSupervysorConfig(raw, file)
}
