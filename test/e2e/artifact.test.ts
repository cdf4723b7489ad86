import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { processesLaunchedBy } from '@ghostfleet/sidecar'
import {
  canConnect,
  eventually,
  freePort,
  getJson,
  type Json,
  processesMentioning,
  runProcess,
  startProcess,
  type TempDir,
  type TestProcess,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/*
 * The release artifact as an operator gets it: `dist/release/ghostfleet-linux-<arch>` from `npm run package`,
 * copied alone into an empty directory and run with `env -i PATH=/usr/bin:/bin` (no node_modules, no repository,
 * no HOME). Everything here runs from that one file: the simulated node (through a `ghostfleet-simnode` symlink,
 * the old name), the simulated KYVE API, the sidecar's init → prune → start, and `devnet up` (the demo fleet).
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const RELEASE = path.join(REPO, 'dist', 'release')
const ARTIFACT_NAME = `ghostfleet-linux-${process.arch}`
const ARTIFACT = path.join(RELEASE, ARTIFACT_NAME)
const BUILT = existsSync(ARTIFACT)
if (!BUILT)
  console.warn(`artifact.test.ts: ${ARTIFACT} is not built, skipping (run \`npm run package\` first)`)

let dir: TempDir
let exe: string
const running: TestProcess[] = []

/** `env -i PATH=/usr/bin:/bin` plus the addon cache in the test's directory; cwd is the artifact's empty directory. */
function cleanEnv(): string[] {
  return ['-i', 'PATH=/usr/bin:/bin', `XDG_CACHE_HOME=${path.join(dir.path, 'cache')}`]
}

/** Runs `command args` in the clean environment, `extraEnv` (`NAME=value`) added. */
function run(command: string, args: string[], extraEnv: string[] = []) {
  return runProcess('/usr/bin/env', [...cleanEnv(), ...extraEnv, command, ...args], {
    cwd: path.dirname(exe),
  })
}

function start(command: string, args: string[]): TestProcess {
  const proc = startProcess('/usr/bin/env', [...cleanEnv(), command, ...args], { cwd: path.dirname(exe) })
  running.push(proc)
  return proc
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

beforeAll(async () => {
  if (!BUILT) return
  dir = await tempDir('gf-artifact-')
  exe = path.join(dir.path, 'app', 'ghostfleet')
  await mkdir(path.dirname(exe))
  await copyFile(ARTIFACT, exe)
  await runProcess('chmod', ['755', exe])
})

afterAll(async () => {
  if (!BUILT) return
  for (const proc of running.splice(0)) await proc.stop('SIGKILL')
  const leftovers = [
    ...(await processesLaunchedBy(path.join(dir.path, 'sidecar'))),
    // The demo fleet's processes all name its work directory (homes, configs, the links they run as).
    ...(await processesMentioning(dir.path)).map((p) => p.pid),
  ]
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  await dir.remove()
})

describe.skipIf(!BUILT)(
  BUILT
    ? `release artifact ${ARTIFACT_NAME}, alone in an empty directory`
    : `release artifact ${ARTIFACT_NAME}: SKIPPED, not built (run \`npm run package\` first)`,
  () => {
    it('matches SHA256SUMS and prints its version with no node_modules, repository or HOME', async () => {
      const sums = await readFile(path.join(RELEASE, 'SHA256SUMS'), 'utf8')
      const line = sums.split('\n').find((l) => l.endsWith(`  ${ARTIFACT_NAME}`))
      expect(line, sums).toBeDefined()
      expect(line?.split('  ')[0]).toBe(sha256(await readFile(exe)))
      // The operator's check, verbatim: every file of the release (executables, systemd units) matches.
      const check = await runProcess('sha256sum', ['--check', 'SHA256SUMS'], { cwd: RELEASE })
      expect(check.code, check.stdout + check.stderr).toBe(0)
      expect(check.stdout).toMatch(/^ghostfleet-sidecar\.service: OK$/m)
      expect(await readdir(path.dirname(exe))).toEqual(['ghostfleet'])

      const manifest = JSON.parse(
        await readFile(path.join(REPO, 'apps', 'ghostfleet', 'package.json'), 'utf8'),
      )
      const version = await run(exe, ['--version'])
      expect(version.stderr).toBe('')
      expect(version.stdout.trim()).toBe(manifest.version)
      const help = await run(exe, ['sidecar', '--help'])
      expect(help.code, help.stderr).toBe(0)
      for (const command of ['init', 'prune', 'start'])
        expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'))
    })

    it('simulated node + KYVE simulator: sidecar init, prune, then start supervises the node for a few ticks', async () => {
      const home = path.join(dir.path, 'node')
      const configDir = path.join(dir.path, 'sidecar')
      // The chain binary the sidecar launches: the artifact under its old simnode name.
      const simnode = path.join(dir.path, 'bin', 'ghostfleet-simnode')
      await mkdir(path.dirname(simnode))
      await symlink(exe, simnode)

      // 300 blocks in LevelDB: the embedded addon, written to the cache under its hash, and the generate worker.
      const generated = await run(exe, [
        'devnet',
        'simnode',
        'generate',
        '--home',
        home,
        '--blocks',
        '300',
        '--chain-id',
        'sim-1',
        '--block-time',
        '100',
      ])
      expect(generated.code, generated.stderr).toBe(0)
      expect(generated.stdout).toMatch(/"last_height":300/)
      const cacheDir = path.join(dir.path, 'cache', 'ghostfleet')
      const [versionDir] = await readdir(cacheDir)
      const [addon] = await readdir(path.join(cacheDir, versionDir ?? ''))
      const hash = /^classic-level-([0-9a-f]{16})\.node$/.exec(addon ?? '')?.[1]
      expect(hash, `cached addon ${addon}`).toBeDefined()
      expect(sha256(await readFile(path.join(cacheDir, versionDir ?? '', addon ?? '')))).toMatch(
        new RegExp(`^${hash}`),
      )

      const rpcPort = await freePort()
      const p2pPort = await freePort()
      const configToml = path.join(home, 'config', 'config.toml')
      await writeFile(
        configToml,
        (await readFile(configToml, 'utf8'))
          .replace(/^laddr = "tcp:\/\/127\.0\.0\.1:26657"$/m, `laddr = "tcp://127.0.0.1:${rpcPort}"`)
          .replace(/^laddr = "tcp:\/\/0\.0\.0\.0:26656"$/m, `laddr = "tcp://127.0.0.1:${p2pPort}"`),
      )

      const kyvePort = await freePort()
      const kyveUrl = `http://127.0.0.1:${kyvePort}`
      const kyve = start(exe, [
        'devnet',
        'kyve',
        '--listen',
        `127.0.0.1:${kyvePort}`,
        '--chain-rpc',
        `http://127.0.0.1:${rpcPort}`,
        '--pool-id',
        '1',
        '--source-chain-id',
        'sim-1',
        '--max-bundle-size',
        '10',
        '--upload-interval',
        '60',
      ])
      // The pool stands at 250 (paused), 50 blocks below the node.
      await eventually(
        async () => {
          expect(kyve.hasExited(), kyve.output()).toBe(false)
          const answer = await fetch(`${kyveUrl}/admin/pool/1`, {
            method: 'POST',
            body: JSON.stringify({ currentKey: '250', paused: true }),
          })
          expect(answer.status).toBe(200)
        },
        { timeoutMs: 20_000, description: 'the KYVE simulator to take the pool height' },
      )

      const httpPort = await freePort()
      const init = await run(exe, [
        'sidecar',
        'init',
        '--binary',
        simnode,
        '--home',
        home,
        '--pool-id',
        '1',
        '--fallback-endpoints',
        kyveUrl,
        '--config',
        configDir,
        '--metrics-port',
        String(httpPort),
      ])
      expect(init.code, init.stderr).toBe(0)
      expect(init.stdout).toMatch(/validated height 250, max_bundle_size 10, upload_interval 60 s/)
      expect(await readFile(path.join(home, 'config', 'app.toml'), 'utf8')).toMatch(/^pruning = "custom"$/m)

      const prune = await run(exe, [
        'sidecar',
        'prune',
        '--home',
        home,
        '--until-height',
        '100',
        '--pool-id',
        '1',
        '--fallback-endpoints',
        kyveUrl,
        '--config',
        configDir,
      ])
      expect(prune.code, prune.stderr).toBe(0)
      expect(prune.stdout).toMatch(/pruned blocks 1\.\.99: 99 blocks, 99 states/)
      expect(prune.stdout).toMatch(/base 1 → 100, height 300/)

      // Ticks every second instead of init's 10 s, so a few pass quickly.
      const config = path.join(configDir, 'config.toml')
      const text = await readFile(config, 'utf8')
      expect(text).toMatch(/^intervalSeconds = 10$/m)
      await writeFile(config, text.replace(/^intervalSeconds = 10$/m, 'intervalSeconds = 1'))

      const sidecar = start(exe, ['sidecar', 'start', '--config', configDir])
      const ticks = new Set<string>()
      const status = await eventually(
        async () => {
          expect(sidecar.hasExited(), sidecar.output()).toBe(false)
          const answer = await getJson(`http://127.0.0.1:${httpPort}/status`)
          expect(answer?.status).toBe(200)
          const body = answer?.body as Json
          if (body['sidecar']?.lastTickAt) ticks.add(body['sidecar'].lastTickAt)
          expect(ticks.size).toBeGreaterThanOrEqual(3)
          return body
        },
        { timeoutMs: 60_000, intervalMs: 250, description: 'three supervision ticks' },
      )
      expect(status['mode']).toBe('normal')
      expect(status['node']).toMatchObject({ reachable: true, height: 300, base: 100 })
      expect(status['node'].process.state).toBe('running')
      expect(status['pool']).toMatchObject({ poolId: 1, height: 250 })
      expect(status['diff']).toBe(50)
      expect(status['lastErrors']).toEqual([])

      // SIGTERM: the node is stopped, the sidecar exits 0.
      expect(await sidecar.stop('SIGTERM', 30_000)).toBe(0)
      expect(await processesLaunchedBy(configDir)).toEqual([])
      expect(await kyve.stop('SIGTERM')).toBe(0)
    }, 120_000)

    it('devnet up: the demo fleet runs from the executable alone, and SIGTERM leaves nothing running', async () => {
      // An empty directory of its own; the fleet runs the executable through links under its old names.
      const cwd = path.join(dir.path, 'devnet-cwd')
      await mkdir(cwd)
      const work = path.join(dir.path, 'demo')
      const demo = startProcess(
        '/usr/bin/env',
        [...cleanEnv(), exe, 'devnet', 'up', '--sidecars', '1', '--dir', work],
        { cwd },
      )
      running.push(demo)
      // Two table frames, the second with the sidecar reporting to the tracker (a row with its report's age).
      const row = /^kyve-1\/0 +demo-sidecar-1 +\S+ +\d+ +-?\d+ +\d+s /m
      await eventually(
        () => {
          expect(demo.hasExited(), demo.output()).toBe(false)
          const frames = demo.output().split('ghostfleet demo — ').slice(1)
          expect(frames.length, demo.output()).toBeGreaterThanOrEqual(2)
          expect(frames.at(-1)).toMatch(row)
        },
        { timeoutMs: 90_000, intervalMs: 250, description: 'two table frames with the sidecar reporting' },
      )
      const redisPort = Number(/redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(demo.output())?.[1])
      expect(redisPort, demo.output()).toBeGreaterThan(0)
      // producer, tracker, sidecar and its follower node
      expect((await processesMentioning(work)).length).toBeGreaterThanOrEqual(4)

      expect(await demo.stop('SIGTERM', 60_000)).toBe(0)
      expect(demo.output()).toMatch(/^everything stopped$/m)
      await eventually(
        async () => {
          expect(await processesMentioning(work)).toEqual([])
          expect(await processesMentioning(`redis-server 127.0.0.1:${redisPort}`)).toEqual([])
          expect(await canConnect(redisPort)).toBe(false)
        },
        { timeoutMs: 15_000, intervalMs: 250, description: 'every process of the demo fleet to be gone' },
      )
    }, 150_000)

    it('loads its addon only from a private cache directory and replaces a cached copy that does not match', async () => {
      const home = path.join(dir.path, 'node-cache-test')
      const generate = (blocks: string, extraEnv: string[]) =>
        run(
          exe,
          ['devnet', 'simnode', 'generate', '--home', home, '--blocks', blocks, '--chain-id', 'sim-1'],
          extraEnv,
        )
      // GHOSTFLEET_CACHE_DIR comes first, but another user could write to it: skipped for XDG_CACHE_HOME.
      const shared = path.join(dir.path, 'shared-cache')
      await mkdir(shared)
      await chmod(shared, 0o777)
      const first = await generate('5', [`GHOSTFLEET_CACHE_DIR=${shared}`])
      expect(first.code, first.stderr).toBe(0)
      expect(await readdir(shared)).toEqual([])
      const cacheDir = path.join(dir.path, 'cache', 'ghostfleet')
      const [versionDir] = await readdir(cacheDir)
      const [addon] = await readdir(path.join(cacheDir, versionDir ?? ''))
      const cached = path.join(cacheDir, versionDir ?? '', addon ?? '')
      const good = await readFile(cached)

      // A damaged copy (a crash mid-write, tampering) is written anew before it is loaded.
      await chmod(cached, 0o600)
      await writeFile(cached, 'not an ELF file')
      const second = await generate('5', [])
      expect(second.code, second.stderr).toBe(0)
      expect(second.stdout).toMatch(/"last_height":10/)
      expect(sha256(await readFile(cached))).toBe(sha256(good))
    })
  },
)

// The arm64 artifact on an x86-64 host, under Debian's qemu-user with the arm64 C/C++ runtime from the cross
// packages (libc6-arm64-cross, libstdc++6-arm64-cross): its own node binary and LevelDB addon must load and work.
const ARM64 = path.join(RELEASE, 'ghostfleet-linux-arm64')
const QEMU = '/usr/bin/qemu-aarch64'
const ARM64_ROOT = '/usr/aarch64-linux-gnu'
const EMULATED =
  process.arch === 'x64' &&
  existsSync(ARM64) &&
  existsSync(QEMU) &&
  existsSync(path.join(ARM64_ROOT, 'lib', 'ld-linux-aarch64.so.1'))
if (process.arch === 'x64' && !EMULATED)
  console.warn(
    'artifact.test.ts: the linux-arm64 artifact is not run: it needs dist/release/ghostfleet-linux-arm64 and ' +
      `${QEMU} with ${ARM64_ROOT} (apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross)`,
  )

describe.skipIf(!EMULATED)('release artifact ghostfleet-linux-arm64 under qemu-user', () => {
  it('prints its version, and writes and prunes LevelDB blocks through its embedded arm64 addon', async () => {
    const arm = await tempDir('gf-artifact-arm64-')
    try {
      const exe = path.join(arm.path, 'app', 'ghostfleet')
      await mkdir(path.dirname(exe))
      await copyFile(ARM64, exe)
      await runProcess('chmod', ['755', exe])
      const emulate = (args: string[]) =>
        runProcess(
          '/usr/bin/env',
          [
            '-i',
            'PATH=/usr/bin:/bin',
            `XDG_CACHE_HOME=${path.join(arm.path, 'cache')}`,
            QEMU,
            '-L',
            ARM64_ROOT,
          ].concat([exe, ...args]),
          { cwd: path.dirname(exe) },
        )
      const manifest = JSON.parse(
        await readFile(path.join(REPO, 'apps', 'ghostfleet', 'package.json'), 'utf8'),
      )
      const version = await emulate(['--version'])
      expect(version.code, version.stderr).toBe(0)
      expect(version.stdout.trim()).toBe(manifest.version)

      const home = path.join(arm.path, 'node')
      const generated = await emulate(
        ['devnet', 'simnode', 'generate', '--home', home, '--blocks', '30'].concat(['--chain-id', 'sim-1']),
      )
      expect(generated.code, generated.stderr).toBe(0)
      expect(generated.stdout).toMatch(/"last_height":30/)
      const pruned = await emulate(['sidecar', 'prune', '--home', home, '--until-height', '10', '--force'])
      expect(pruned.code, pruned.stderr).toBe(0)
      expect(pruned.stdout).toMatch(/base 1 → 10, height 30/)
    } finally {
      await arm.remove()
    }
  }, 180_000)
})
