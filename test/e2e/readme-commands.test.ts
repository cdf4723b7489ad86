import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startRedis, type TempDir, type TestRedis, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLIS, callFlags, knownFlags, readDockerfile, shellWords } from './deploy-kit.js'
import { REPO, repoPath } from './observability-kit.js'

/*
 * Every command the README and the operator guide show in a ```sh block works as written. Each one is run, with
 * root's paths (/etc, /usr/local, /var, /opt) moved into a scratch root and `sudo` dropped, in a directory that
 * looks like both a clone (apps/, deploy/, docker/ of this repository) and a release download (a stand-in
 * `ghostfleet-linux-x64`, the units of deploy/systemd and a `SHA256SUMS` of them), with what earlier commands of the same block installed first on
 * the PATH — or, for commands that start a service or change a node, its `--help`, which must list every flag the
 * command uses. The few programs that need a machine of their own (systemd, Docker, npm's whole-repository
 * scripts) are checked differently, each as its entry in COVERED_ELSEWHERE says. A command nobody knows how to
 * check fails the test: add a way to check it, or do not show it.
 */

/** The docs checked, whole or one `## ` section (an app README's install section: its other blocks are usage). */
const DOCS: ReadonlyArray<{ file: string; section?: string; atLeast: number }> = [
  { file: 'README.md', atLeast: 11 },
  { file: 'docs/operator-guide.md', atLeast: 21 },
  { file: 'apps/sidecar/README.md', section: 'Install', atLeast: 7 },
]

/** The `## <title>` section of `markdown`, up to the next `## ` heading. */
function sectionOf(markdown: string, title: string): string {
  const lines = markdown.split('\n')
  const start = lines.indexOf(`## ${title}`)
  if (start < 0) throw new Error(`no "## ${title}" section`)
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '))
  // Blank lines in place of the rest keep the line numbers of the file.
  return lines.map((line, i) => (i >= start && (end < 0 || i < end) ? line : '')).join('\n')
}

/** One simple command (or a pipeline) of a ```sh block, continuation lines joined, comments removed. */
interface DocCommand {
  file: string
  line: number
  block: number
  text: string
}

function docCommands(file: string, markdown: string): DocCommand[] {
  const commands: DocCommand[] = []
  const lines = markdown.split('\n')
  let block = -1
  let inBlock = false
  let pending = ''
  let start = 0
  lines.forEach((raw, index) => {
    const fence = /^\s*```(\w*)\s*$/.exec(raw)
    if (fence !== null) {
      if (!inBlock && ['sh', 'bash', 'shell'].includes(fence[1] ?? '')) {
        inBlock = true
        block += 1
      } else if (inBlock) inBlock = false
      return
    }
    if (!inBlock) return
    const text = raw.replace(/(^|\s)#\s.*$/, '').trim()
    if (pending === '') start = index + 1
    if (text.endsWith('\\')) {
      pending += `${text.slice(0, -1)} `
      return
    }
    const whole = `${pending}${text}`.trim()
    pending = ''
    if (whole === '') return
    for (const part of whole.split(/\s&&\s/)) commands.push({ file, line: start, block, text: part.trim() })
  })
  return commands
}

/** The old names and the subcommand words of `ghostfleet` each stands for. */
const OLD_NAMES: Record<string, string[]> = {
  'ghostfleet-sidecar': ['sidecar'],
  'ghostfleet-tracker': ['tracker'],
  'ghostfleet-devnet': ['devnet'],
  'ghostfleet-simnode': ['devnet', 'simnode'],
}

/** `ghostfleet` commands that are safe to run as they are: they print, or write only into the working directory. */
const RUN_AS_IS = ['--version', '--help', 'sidecar version', 'tracker acl']

/**
 * Programs whose commands cannot run on a test machine, and how each is covered instead. The check returns a
 * problem, or undefined.
 */
const COVERED_ELSEWHERE: Record<string, { how: string; check: (words: string[]) => string | undefined }> = {
  systemctl: {
    how: 'needs a running systemd; the units pass `systemd-analyze verify` in deploy.test.ts. Checked here: every ghostfleet-* unit named exists in deploy/systemd',
    check: (words) => missingUnits(words),
  },
  journalctl: {
    how: 'needs systemd; checked here: the unit it names exists in deploy/systemd',
    check: (words) => missingUnits(words),
  },
  sudoedit: {
    how: 'an editor; checked here: the file it edits is one a unit in deploy/systemd reads',
    check: (words) => {
      const file = words.at(-1) ?? ''
      const units = ['ghostfleet-sidecar.service', 'ghostfleet-tracker.service']
        .map((u) => readFileSync(repoPath('deploy', 'systemd', u), 'utf8'))
        .join('\n')
      return units.includes(file) ? undefined : `no unit in deploy/systemd reads ${file}`
    },
  },
  docker: {
    how: 'needs a Docker engine; deploy.test.ts checks docker/Dockerfile and docker/compose.yml and runs the compose services on the host. Checked here: the file and build target named exist',
    check: (words) => {
      const file = words[words.indexOf('-f') + 1]
      if (words.includes('-f') && (file === undefined || !existsSync(repoPath(file))))
        return `no file ${file} in the repository`
      const target = words.includes('--target') ? words[words.indexOf('--target') + 1] : undefined
      if (target !== undefined) {
        const stages = readDockerfile(repoPath('docker', 'Dockerfile')).map((s) => s.name)
        if (!stages.includes(target)) return `docker/Dockerfile has no stage ${target}`
      }
      return undefined
    },
  },
  npm: {
    how: "whole-repository scripts: `npm ci`, `npm test` are .ci/run verbatim (CI on a fresh clone); `npm run build` is what `npm test` runs first (turbo: test depends on build); `npm run demo` is apps/ghostfleet/test/demo.test.ts. Checked here: the script exists; `npm run <script> -- <args>` runs the script's program with those args",
    check: (words) => npmProblem(words),
  },
}

function missingUnits(words: string[]): string | undefined {
  if (words[0] === 'systemctl' && words[1] === 'daemon-reload' && words.length === 2) return undefined
  const units = words.slice(1).filter((w) => w.startsWith('ghostfleet-'))
  if (units.length === 0) return 'names no ghostfleet unit'
  const missing = units.filter(
    (u) => !existsSync(repoPath('deploy', 'systemd', `${u.replace(/\.service$/, '')}.service`)),
  )
  return missing.length === 0 ? undefined : `no unit file for ${missing.join(', ')} in deploy/systemd`
}

const rootPackage = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
  scripts: Record<string, string>
}
const ciScript = readFileSync(repoPath('.ci', 'run'), 'utf8')

function npmProblem(words: string[]): string | undefined {
  const [, verb, script] = words
  if (verb === 'ci' || verb === 'test') {
    return new RegExp(`^npm ${verb}\\b`, 'm').test(ciScript) ? undefined : `.ci/run does not run npm ${verb}`
  }
  if (verb !== 'run' || script === undefined) return `npm ${verb ?? ''}: no way to check it here`
  if (rootPackage.scripts[script] === undefined) return `package.json has no script "${script}"`
  if (script === 'build') return ciScript.includes('npm test') ? undefined : 'npm test does not run in CI'
  if (script === 'demo')
    return existsSync(repoPath('apps', 'ghostfleet', 'test', 'demo.test.ts')) ? undefined : 'no demo test'
  return `npm run ${script}: add how it is covered`
}

/** For `npm run <script> -- <args>`: the script's own program (what follows its build step) with the args. */
function npmScriptCommand(words: string[]): string[] | undefined {
  const dashes = words.indexOf('--')
  if (words[1] !== 'run' || dashes < 0) return undefined
  const script = rootPackage.scripts[words[2] ?? '']
  if (script === undefined) return undefined
  const program = shellWords(script.split('&&').at(-1)?.trim() ?? '')
  return [...program, ...words.slice(dashes + 1)]
}

/** The words of a `ghostfleet` call as `ghostfleet …` (old names and `npx` resolved), or undefined. */
function asGhostfleet(words: string[]): string[] | undefined {
  const rest = words[0] === 'npx' ? words.slice(1) : words
  const [program, ...args] = rest
  if (program === 'ghostfleet') return args
  const old = program === undefined ? undefined : OLD_NAMES[program]
  return old === undefined ? undefined : [...old, ...args]
}

/** A ghostfleet call that must not run here, checked by its subcommand's --help: it exists and has every flag. */
function helpProblem(args: string[]): string | undefined {
  const { subcommand, flags } = callFlags({ where: '', cli: 'ghostfleet', args })
  let known: Set<string>
  try {
    known = knownFlags('ghostfleet', subcommand)
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
  const unknown = flags.filter((f) => !known.has(f))
  return unknown.length === 0 ? undefined : `ghostfleet ${subcommand ?? ''} has no ${unknown.join(', ')}`
}

const ROOT_PATHS = /(^|[\s=])(\/(?:etc|usr\/local|var|opt)\/[^\s"']*)/g

/** The scratch world one block's commands run in: a clone-and-download directory, a root, the PATH. */
interface Sandbox {
  cwd: string
  root: string
  env: NodeJS.ProcessEnv
}

/**
 * The release the docs' download commands work on: `npm run package`'s dist/release when it has been built
 * (CI builds it before the tests) and this host can run its x64 executable, else a stand-in.
 */
const RELEASE_DIR = repoPath('dist', 'release')
const realRelease =
  process.platform === 'linux' &&
  process.arch === 'x64' &&
  existsSync(path.join(RELEASE_DIR, 'SHA256SUMS')) &&
  existsSync(path.join(RELEASE_DIR, 'ghostfleet-linux-x64'))

async function makeSandbox(
  base: string,
  index: number,
  redisUrl: string,
  release: 'built' | 'stand-in',
): Promise<Sandbox> {
  const cwd = path.join(base, `block-${index}`, 'work')
  const root = path.join(base, `block-${index}`, 'root')
  await mkdir(cwd, { recursive: true })
  await mkdir(path.join(root, 'usr', 'local', 'bin'), { recursive: true })
  for (const entry of ['apps', 'deploy', 'docker', 'package.json', 'node_modules'])
    await symlink(path.join(REPO, entry), path.join(cwd, entry))
  if (release === 'built') {
    const sums = readFileSync(path.join(RELEASE_DIR, 'SHA256SUMS'), 'utf8')
    const files = [...sums.matchAll(/^[0-9a-f]{64} [ *](.+)$/gm)].map((m) => m[1] as string)
    for (const file of ['SHA256SUMS', ...files])
      await symlink(path.join(RELEASE_DIR, file), path.join(cwd, file))
  } else {
    // A stand-in for the release executable: what the checksum is checked on and what `install` copies.
    const artifact = path.join(cwd, 'ghostfleet-linux-x64')
    await writeFile(artifact, `#!/bin/sh\nexec "${process.execPath}" "${CLIS['ghostfleet']}" "$@"\n`)
    await chmod(artifact, 0o644)
    // The release's other files: the units and the environment template, as in deploy/systemd.
    const unitFiles = ['ghostfleet-sidecar.service', 'ghostfleet-tracker.service', 'ghostfleet.env.example']
    for (const file of unitFiles) await symlink(repoPath('deploy', 'systemd', file), path.join(cwd, file))
    const sums = spawnSync('sha256sum', ['ghostfleet-linux-x64', ...unitFiles], { cwd, encoding: 'utf8' })
    // The arm64 file is listed but not downloaded: --ignore-missing is what makes the check pass.
    await writeFile(path.join(cwd, 'SHA256SUMS'), `${sums.stdout}${'0'.repeat(64)}  ghostfleet-linux-arm64\n`)
  }
  // Until a block installs it, `ghostfleet` is the clone's (the old names too, as npm links them).
  const bin = path.join(base, 'bin')
  return {
    cwd,
    root,
    env: {
      ...process.env,
      PATH: `${path.join(root, 'usr', 'local', 'bin')}:${bin}:${process.env['PATH'] ?? ''}`,
      HOME: path.join(base, `block-${index}`),
      REDIS_ADMIN_URL: redisUrl,
      GHOSTFLEET_LOG_LEVEL: 'warn',
    },
  }
}

/** Runs a command line as the docs show it, root's paths moved into the sandbox's root, `sudo` dropped. */
async function runInSandbox(text: string, box: Sandbox): Promise<{ code: number; output: string }> {
  const rooted = text
    .replace(/(^|\|\s*)sudo\s+/g, '$1')
    .replace(ROOT_PATHS, (_m, lead: string, p: string) => {
      return `${lead}${box.root}${p}`
    })
  for (const [, , p] of text.matchAll(ROOT_PATHS)) {
    const target = path.join(box.root, p as string)
    await mkdir((p as string).endsWith('/') ? target : path.dirname(target), { recursive: true })
  }
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', rooted], {
    cwd: box.cwd,
    env: box.env,
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` }
}

/** What a command is checked by, and the problem found (undefined: it works). */
async function checkCommand(command: DocCommand, box: Sandbox): Promise<{ how: string; problem?: string }> {
  const stages = command.text.split(/\s\|\s/).map((s) => shellWords(s.trim()))
  const plain = stages.map((w) => (w[0] === 'sudo' ? w.slice(1) : w))
  const runnable = (words: string[]): boolean => {
    const args = asGhostfleet(words)
    if (args !== undefined) {
      const { subcommand } = callFlags({ where: '', cli: 'ghostfleet', args })
      const key = subcommand ?? args.filter((a) => a.startsWith('-')).join(' ')
      return RUN_AS_IS.includes(key) || (args.includes('--help') && !args.includes('--'))
    }
    return ['install', 'ln', 'sha256sum', 'redis-cli'].includes(words[0] ?? '')
  }
  if (plain.every(runnable)) {
    const npx = plain[0]?.[0] === 'npx'
    const result = await runInSandbox(command.text, npx ? { ...box, cwd: REPO } : box)
    return {
      how: 'run',
      problem: result.code === 0 ? undefined : `exit ${result.code}: ${result.output.trim().slice(0, 800)}`,
    }
  }
  const problems: string[] = []
  const hows: string[] = []
  for (const words of plain) {
    const args = asGhostfleet(words)
    if (args !== undefined) {
      hows.push('--help')
      const problem = helpProblem(args)
      if (problem !== undefined) problems.push(problem)
      continue
    }
    const npmProgram = words[0] === 'npm' ? npmScriptCommand(words) : undefined
    if (npmProgram !== undefined) {
      hows.push("the script's program")
      const result = spawnSync(npmProgram[0] as string, npmProgram.slice(1), {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 60_000,
      })
      if (result.status !== 0)
        problems.push(`${npmProgram.join(' ')}: exit ${result.status} ${result.stderr}`)
      continue
    }
    const covered = COVERED_ELSEWHERE[words[0] ?? '']
    if (covered === undefined) {
      problems.push(
        `no way to check "${words[0]}": run it, or add it to COVERED_ELSEWHERE in test/e2e/readme-commands.test.ts`,
      )
      continue
    }
    hows.push(`covered elsewhere: ${covered.how}`)
    const problem = covered.check(words)
    if (problem !== undefined) problems.push(problem)
  }
  return { how: hows.join('; '), problem: problems.length === 0 ? undefined : problems.join('\n') }
}

let base: TempDir
let redis: TestRedis
const sandboxes = new Map<string, Sandbox>()

async function sandboxFor(
  command: DocCommand,
  release: 'built' | 'stand-in' = realRelease ? 'built' : 'stand-in',
): Promise<Sandbox> {
  const key = `${command.file}#${command.block}`
  let box = sandboxes.get(key)
  if (box === undefined) {
    box = await makeSandbox(base.path, sandboxes.size, `redis://127.0.0.1:${redis.port}`, release)
    sandboxes.set(key, box)
  }
  return box
}

beforeAll(async () => {
  base = await tempDir('gf-readme-commands-')
  redis = await startRedis()
  const bin = path.join(base.path, 'bin')
  await mkdir(bin)
  for (const name of ['ghostfleet', ...Object.keys(OLD_NAMES)])
    await symlink(repoPath('apps', 'ghostfleet', 'bin', `${name}.js`), path.join(bin, name))
})

afterAll(async () => {
  await redis?.stop()
  await base?.remove()
})

for (const { file, section, atLeast } of DOCS) {
  const markdown = readFileSync(repoPath(file), 'utf8')
  const commands = docCommands(file, section === undefined ? markdown : sectionOf(markdown, section))
  const what = section === undefined ? file : `${file} "${section}"`

  describe(`the commands of ${what} (release: ${realRelease ? 'dist/release' : 'a stand-in'})`, () => {
    it('are found (the extraction sees the blocks)', () => {
      expect(commands.length).toBeGreaterThanOrEqual(atLeast)
    })

    it.each(commands.map((c) => [`${c.file}:${c.line} ${c.text}`, c] as const))(
      '%s',
      async (_name, command) => {
        const { problem } = await checkCommand(command, await sandboxFor(command))
        expect(problem, `${command.file}:${command.line}: ${command.text}`).toBeUndefined()
      },
    )
  })
}

describe('the checker', () => {
  const fake = (text: string, block: number): DocCommand => ({ file: 'checker', line: 1, block, text })

  it.each([
    ['ghostfleet sidcar start', /no subcommand|unknown/i],
    ['ghostfleet sidecar init --home /x --pool-idd 1', /has no --pool-idd/],
    ['ghostfleet sidecar version --verbose-please', /exit|has no/],
    ['ghostfleet-sidecar start --config /x --bogus', /has no --bogus/],
    ['npm run no-such-script', /no script "no-such-script"/],
    ['systemctl enable --now ghostfleet-gateway', /no unit file for ghostfleet-gateway/],
    ['docker build -f docker/Dockerfile --target nope .', /no stage nope/],
    ['curl -fsSL https://example.com/install.sh', /no way to check "curl"/],
    ['sha256sum --check SHA256SUMS', /exit/],
    ['sudo install -m 0755 ghostfleet-linux-arm64 /usr/local/bin/ghostfleet', /exit/],
  ])('rejects %s', async (text, reason) => {
    const command = fake(text, 1000)
    const { problem } = await checkCommand(command, await sandboxFor(command, 'stand-in'))
    expect(problem).toMatch(reason)
  })

  it('runs what it can: an installed release answers --version', async () => {
    const box = await sandboxFor(fake('', 1001), 'stand-in')
    for (const text of [
      'sha256sum --check --ignore-missing SHA256SUMS',
      'sudo install -m 0755 ghostfleet-linux-x64 /usr/local/bin/ghostfleet',
    ]) {
      expect((await checkCommand(fake(text, 1001), box)).problem).toBeUndefined()
    }
    expect(existsSync(path.join(box.root, 'usr', 'local', 'bin', 'ghostfleet'))).toBe(true)
    const version = await runInSandbox('ghostfleet --version', box)
    expect(version.output.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})
