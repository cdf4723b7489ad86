/**
 * Readers for deploy.test.ts: docker/compose.yml (through python3-yaml, see observability-kit.ts), the
 * Dockerfile's stages, systemd unit files, and the command lines the deployment files and the operator guide
 * hand to the Ghostfleet CLIs.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  asArray,
  asObject,
  asString,
  isObject,
  type JsonObject,
  REPO,
  readYaml,
  repoPath,
} from './observability-kit.js'

// ------------------------------------------------------------------------------------------------ compose

export const COMPOSE_FILE = repoPath('docker', 'compose.yml')
export const COMPOSE_DIR = path.dirname(COMPOSE_FILE)

export interface ComposeService {
  name: string
  raw: JsonObject
  image?: string
  build?: { context: string; dockerfile: string; target?: string }
  entrypoint: string[]
  command: string[]
  environment: Record<string, string>
  /** Bind mounts (host path resolved against the compose directory) and named volumes. */
  volumes: Array<{ source: string; target: string; readOnly: boolean; bind: boolean }>
  /** `host:container` TCP port publications. */
  ports: Array<{ host: number; container: number }>
  dependsOn: Record<string, string>
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return []
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean)
  return asArray(value, where).map((v) => asString(v, where))
}

export function readCompose(): { raw: JsonObject; services: ComposeService[] } {
  const raw = asObject(readYaml(COMPOSE_FILE), 'compose.yml')
  const services = Object.entries(asObject(raw['services'], 'services')).map(([name, value]) => {
    const svc = asObject(value, `services.${name}`)
    const service: ComposeService = {
      name,
      raw: svc,
      entrypoint: stringList(svc['entrypoint'], `${name}.entrypoint`),
      command: stringList(svc['command'], `${name}.command`),
      environment: {},
      volumes: [],
      ports: [],
      dependsOn: {},
    }
    if (typeof svc['image'] === 'string') service.image = svc['image']
    if (svc['build'] !== undefined) {
      const build = asObject(svc['build'], `${name}.build`)
      service.build = {
        context: path.resolve(COMPOSE_DIR, asString(build['context'] ?? '.', `${name}.build.context`)),
        dockerfile: asString(build['dockerfile'] ?? 'Dockerfile', `${name}.build.dockerfile`),
      }
      if (typeof build['target'] === 'string') service.build.target = build['target']
    }
    const env = svc['environment']
    if (Array.isArray(env)) {
      for (const entry of env) {
        const [k, ...v] = asString(entry, `${name}.environment`).split('=')
        service.environment[k as string] = v.join('=')
      }
    } else if (isObject(env)) {
      for (const [k, v] of Object.entries(env)) service.environment[k] = String(v)
    }
    for (const volume of asArray(svc['volumes'] ?? [], `${name}.volumes`)) {
      const [source, target, mode] = asString(volume, `${name}.volumes[]`).split(':') as [
        string,
        string,
        string?,
      ]
      const bind = source.startsWith('.') || source.startsWith('/')
      service.volumes.push({
        source: bind ? path.resolve(COMPOSE_DIR, source) : source,
        target,
        readOnly: mode === 'ro',
        bind,
      })
    }
    for (const port of asArray(svc['ports'] ?? [], `${name}.ports`)) {
      const [host, container] = asString(port, `${name}.ports[]`).split(':').map(Number) as [number, number]
      service.ports.push({ host, container })
    }
    const deps = svc['depends_on']
    if (Array.isArray(deps))
      for (const d of deps) service.dependsOn[asString(d, 'depends_on')] = 'service_started'
    else if (isObject(deps)) {
      for (const [k, v] of Object.entries(deps)) {
        service.dependsOn[k] = asString(asObject(v, `${name}.depends_on.${k}`)['condition'], 'condition')
      }
    }
    return service
  })
  return { raw, services }
}

/** The host path a container path of `service` maps to through its bind mounts, or undefined. */
export function hostPathOf(service: ComposeService, containerPath: string): string | undefined {
  for (const volume of service.volumes) {
    if (!volume.bind) continue
    if (containerPath === volume.target) return volume.source
    if (containerPath.startsWith(`${volume.target}/`)) {
      return path.join(volume.source, containerPath.slice(volume.target.length + 1))
    }
  }
  return undefined
}

// ------------------------------------------------------------------------------------------------ Dockerfile

export interface DockerStage {
  name: string
  from: string
  instructions: Array<{ keyword: string; args: string }>
}

/** Stages of a Dockerfile (line continuations joined, comments dropped). */
export function readDockerfile(file: string): DockerStage[] {
  const lines: string[] = []
  let pending = ''
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*#/.test(line) && pending === '') continue
    if (/^\s*#/.test(line)) continue
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      continue
    }
    const full = (pending + line).trim()
    pending = ''
    if (full !== '') lines.push(full)
  }
  const stages: DockerStage[] = []
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/s.exec(line)
    if (m === null) continue
    const keyword = (m[1] as string).toUpperCase()
    const args = m[2] as string
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      if (from === null) throw new Error(`cannot read FROM ${args}`)
      stages.push({ name: from[2] ?? `#${stages.length}`, from: from[1] as string, instructions: [] })
    } else if (stages.length > 0) {
      stages[stages.length - 1]?.instructions.push({ keyword, args })
    }
  }
  return stages
}

/** The stage and every stage it is built FROM, nearest first. */
export function stageChain(stages: DockerStage[], name: string): DockerStage[] {
  const chain: DockerStage[] = []
  let current = stages.find((s) => s.name === name)
  while (current !== undefined) {
    chain.push(current)
    const from = current.from
    current = stages.find((s) => s.name === from)
  }
  return chain
}

// ------------------------------------------------------------------------------------------------ systemd

export type UnitFile = Record<string, Array<[string, string]>>

/** `[Section]` / `Key=Value` lines; repeated keys kept in order. */
export function readUnit(file: string): UnitFile {
  const unit: UnitFile = {}
  let section = ''
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[([A-Za-z]+)\]$/.exec(line)
    if (header !== null) {
      section = header[1] as string
      unit[section] ??= []
      continue
    }
    const kv = /^([A-Za-z0-9]+)=(.*)$/.exec(line)
    if (kv === null || section === '') throw new Error(`${file}: cannot read "${line}"`)
    unit[section]?.push([kv[1] as string, kv[2] as string])
  }
  return unit
}

export function unitValues(unit: UnitFile, section: string, key: string): string[] {
  return (unit[section] ?? []).filter(([k]) => k === key).map(([, v]) => v)
}

export function unitValue(unit: UnitFile, section: string, key: string): string | undefined {
  return unitValues(unit, section, key).at(-1)
}

/** systemd time spans such as `120s`, `2min`, `1min 30s`, or a bare number of seconds. */
export function timespanSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 }
  let total = 0
  const parts = text.trim().split(/\s+/)
  for (const part of parts) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part)
    if (m === null) throw new Error(`not a time span: ${text}`)
    const unit = m[2] === '' ? 1 : units[m[2] as string]
    if (unit === undefined) throw new Error(`unknown unit in ${text}`)
    total += Number(m[1]) * unit
  }
  return total
}

/**
 * `systemd-analyze verify` in a scratch root holding the system's unit files, stand-in executables for the
 * units' ExecStart binaries (the real ones are installed by the operator) and the units under test. Returns its
 * output: empty when every unit is clean (the tool exits 0 even for ignored bad keys, so output is the signal).
 */
export function systemdVerify(units: string[], root: string): { code: number; output: string } {
  const unitDir = path.join(root, 'etc', 'systemd', 'system')
  mkdirSync(unitDir, { recursive: true })
  const copy = spawnSync('cp', ['-r', '/usr/lib/systemd/system', path.join(root, 'usr', 'lib', 'systemd')], {
    encoding: 'utf8',
  })
  if (copy.status !== 0) {
    mkdirSync(path.join(root, 'usr', 'lib', 'systemd'), { recursive: true })
    spawnSync('cp', ['-r', '/usr/lib/systemd/system', path.join(root, 'usr', 'lib', 'systemd', 'system')])
  }
  for (const file of units) {
    const unit = readUnit(file)
    for (const exec of unitValues(unit, 'Service', 'ExecStart')) {
      const binary = exec.replace(/^[-@:+!]+/, '').split(/\s+/)[0] as string
      const stub = path.join(root, binary)
      mkdirSync(path.dirname(stub), { recursive: true })
      writeFileSync(stub, '#!/bin/sh\n', { mode: 0o755 })
    }
    writeFileSync(path.join(unitDir, path.basename(file)), readFileSync(file))
  }
  const result = spawnSync(
    'systemd-analyze',
    ['verify', `--root=${root}`, ...units.map((u) => path.basename(u))],
    {
      encoding: 'utf8',
    },
  )
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}`.trim() }
}

// ------------------------------------------------------------------------------------------------ CLI calls

export const CLIS: Record<string, string> = {
  ghostfleet: repoPath('apps', 'ghostfleet', 'dist', 'cli.js'),
  'ghostfleet-sidecar': repoPath('apps', 'sidecar', 'dist', 'cli.js'),
  'ghostfleet-tracker': repoPath('apps', 'tracker', 'dist', 'cli.js'),
  'ghostfleet-simnode': repoPath('apps', 'devnet', 'dist', 'simnode-cli.js'),
  'ghostfleet-devnet': repoPath('apps', 'devnet', 'dist', 'devnet-cli.js'),
}

export interface CliCall {
  where: string
  cli: string
  args: string[]
}

/** Splits a shell-ish command line into words (quotes removed; `$VAR`s kept as text). */
export function shellWords(line: string): string[] {
  const words: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g
  let m: RegExpExecArray | null
  for (;;) {
    m = re.exec(line)
    if (m === null) break
    words.push(m[1] ?? m[2] ?? m[3] ?? '')
  }
  return words
}

/** Ghostfleet CLI calls in shell text (scripts, ```sh blocks): lines starting with a Ghostfleet command. */
export function cliCallsInShell(text: string, where: string): CliCall[] {
  const calls: CliCall[] = []
  const joined = text.replace(/\\\n/g, ' ')
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/^\s*(exec|sudo)\s+/, '').replace(/#\s.*$/, '')
    const words = shellWords(line.trim())
    const cli = words[0]
    if (cli === undefined || CLIS[cli] === undefined) continue
    calls.push({ where, cli, args: words.slice(1) })
  }
  return calls
}

/** The ```sh code blocks of a markdown file. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1] as string)
}

/** `--flag` names of the CLI's subcommand (words separated by spaces: `sidecar start`), from its own `--help`. */
export function knownFlags(cli: string, subcommand: string | undefined): Set<string> {
  const script = CLIS[cli]
  if (script === undefined) throw new Error(`unknown CLI ${cli}`)
  const args = subcommand === undefined ? ['--help'] : [...subcommand.split(' '), '--help']
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', cwd: REPO })
  const help = `${result.stdout}${result.stderr}`
  if (subcommand !== undefined && !help.includes(`Usage: ${cli} ${subcommand}`)) {
    throw new Error(`${cli} has no subcommand "${subcommand}":\n${help}`)
  }
  return new Set([...help.matchAll(/--[a-z][a-z0-9._-]*/g)].map((m) => m[0]))
}

/** How many leading words name the command: `ghostfleet sidecar start`, `ghostfleet devnet simnode start`. */
function commandDepth(call: CliCall): number {
  if (call.cli !== 'ghostfleet') return 1
  return call.args[0] === 'devnet' && call.args[1] === 'simnode' ? 3 : 2
}

/** The subcommand (its words joined by spaces) and the `--flags` a call uses. */
export function callFlags(call: CliCall): { subcommand: string | undefined; flags: string[] } {
  const words: string[] = []
  for (const arg of call.args.slice(0, commandDepth(call))) {
    if (arg.startsWith('-')) break
    words.push(arg)
  }
  const subcommand = words.length > 0 ? words.join(' ') : undefined
  const flags = call.args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0] as string)
  return { subcommand, flags }
}
