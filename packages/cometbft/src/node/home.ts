import { stat } from 'node:fs/promises'
import path from 'node:path'
import { errorCode } from './atomic-file.js'
import { readNodeConfig } from './config-toml.js'
import { NodeConfigError, NotANodeHomeError } from './errors.js'

/** One thing {@link inspectNodeHome} looked for. */
export interface NodeHomeCheck {
  /** Path relative to the home as shown to operators, e.g. `config/config.toml` or `data/`. */
  name: string
  /** Absolute path. */
  path: string
  kind: 'file' | 'directory'
  /** True when it exists and is of the right kind. */
  ok: boolean
  /** What is wrong, e.g. `config/config.toml not found`; undefined when ok. */
  problem: string | undefined
}

/** The result of {@link inspectNodeHome}. */
export interface NodeHomeReport {
  /** Absolute path of the home. */
  home: string
  /** True when every check passed. */
  ok: boolean
  checks: NodeHomeCheck[]
  /** Every problem found, in check order (empty when ok). */
  problems: string[]
  /** The error to report or throw when not ok: "<home> is not a CometBFT home: <problems>". */
  error: NotANodeHomeError | undefined
}

async function kindOf(
  file: string,
): Promise<'file' | 'directory' | 'other' | 'missing' | `unreadable (${string})`> {
  try {
    const info = await stat(file)
    if (info.isFile()) return 'file'
    if (info.isDirectory()) return 'directory'
    return 'other'
  } catch (error) {
    const code = errorCode(error)
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'
    return `unreadable (${code ?? String(error)})`
  }
}

async function check(
  home: string,
  name: string,
  file: string,
  kind: 'file' | 'directory',
): Promise<NodeHomeCheck> {
  const found = await kindOf(file)
  let problem: string | undefined
  if (found === 'missing') problem = `${name} not found`
  else if (found.startsWith('unreadable')) problem = `${name} is ${found}`
  else if (found !== kind) problem = `${name} is not a ${kind}`
  return { name, path: path.resolve(home, file), kind, ok: problem === undefined, problem }
}

/**
 * Checks that `home` looks like a CometBFT node home: the directory exists and holds `config/config.toml`,
 * `config/app.toml` and the data directory (`db_dir` from config.toml, `data/` by default). Never throws for
 * what it finds; the report says exactly what is missing and carries a ready {@link NotANodeHomeError}.
 *
 * @example
 * ```ts
 * const report = await inspectNodeHome('/data/osmosis')
 * if (report.error) throw report.error // "/data/osmosis is not a CometBFT home: config/app.toml not found"
 * ```
 */
export async function inspectNodeHome(home: string): Promise<NodeHomeReport> {
  const absolute = path.resolve(home)
  const checks: NodeHomeCheck[] = []
  const homeKind = await kindOf(absolute)
  if (homeKind !== 'directory') {
    const problem =
      homeKind === 'missing'
        ? 'the directory does not exist'
        : homeKind === 'file' || homeKind === 'other'
          ? 'it is not a directory'
          : `the directory is ${homeKind}`
    checks.push({ name: '.', path: absolute, kind: 'directory', ok: false, problem })
  } else {
    const configToml = await check(
      absolute,
      'config/config.toml',
      path.join(absolute, 'config', 'config.toml'),
      'file',
    )
    checks.push(configToml)
    checks.push(await check(absolute, 'config/app.toml', path.join(absolute, 'config', 'app.toml'), 'file'))

    // The data directory is wherever config.toml's db_dir points (operators move it to faster disks).
    let dataName = 'data/'
    let dataPath = path.join(absolute, 'data')
    if (configToml.ok) {
      try {
        const config = await readNodeConfig(absolute)
        dataPath = config.dbPath
        dataName = path.isAbsolute(config.dbDir)
          ? `${config.dbDir} (db_dir)`
          : `${config.dbDir.replace(/\/+$/, '')}/`
      } catch (error) {
        if (!(error instanceof NodeConfigError)) throw error
        configToml.ok = false
        configToml.problem = `config/config.toml is invalid (${error.message})`
      }
    }
    checks.push(await check(absolute, dataName, dataPath, 'directory'))
  }
  const problems = checks.flatMap((c) => (c.problem === undefined ? [] : [c.problem]))
  return {
    home: absolute,
    ok: problems.length === 0,
    checks,
    problems,
    error: problems.length === 0 ? undefined : new NotANodeHomeError(absolute, problems),
  }
}

/**
 * Like {@link inspectNodeHome}, but throws when the home is not usable.
 *
 * @throws {@link NotANodeHomeError} listing everything that is missing.
 */
export async function requireNodeHome(home: string): Promise<NodeHomeReport> {
  const report = await inspectNodeHome(home)
  if (report.error !== undefined) throw report.error
  return report
}
