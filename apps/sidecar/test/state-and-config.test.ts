import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ValidationError } from '@ghostfleet/core'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { composeNodeFlags } from '../src/commands/init.js'
import { ConfigNotFoundError, loadSidecarConfig, writeSidecarConfig } from '../src/config/config-file.js'
import { mapSupervysorConfig } from '../src/config/supervysor-import.js'
import { SidecarStateError, SidecarStateStore } from '../src/state/sidecar-state.js'
import { StateKeeper } from '../src/state/state-keeper.js'

let dir: TempDir
beforeEach(async () => {
  dir = await tempDir('gf-state-')
})
afterEach(async () => {
  await dir.remove()
})

const valid = {
  node: { binary: '/usr/local/bin/osmosisd', home: '/data/osmosis', launcher: 'binary' },
  pool: { chainId: 'kyve-1', poolId: 1 },
  thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
} as const

describe('StateKeeper', () => {
  it('saves updates in order and keeps memory and disk in step', async () => {
    const store = new SidecarStateStore(dir.path)
    const keeper = new StateKeeper(store, await store.load())
    await Promise.all([
      keeper.update({ mode: 'ghost' }),
      keeper.update((s) => ({ nodePid: s.mode === 'ghost' ? 42 : 1 })),
    ])
    expect(keeper.get()).toMatchObject({ mode: 'ghost', nodePid: 42 })
    expect(await store.load()).toMatchObject({ mode: 'ghost', nodePid: 42 })
  })

  it('leaves the state unchanged when the save fails: nothing is acted on that is not durable', async () => {
    const store = new SidecarStateStore(path.join(dir.path, 'gone'))
    const keeper = new StateKeeper(store, await store.load())
    await expect(keeper.update({ mode: 'ghost' })).rejects.toThrow()
    expect(keeper.get().mode).toBe('normal')
    // The queue survives a failure.
    await mkdir(path.join(dir.path, 'gone'))
    await keeper.update({ mode: 'ghost' })
    expect((await store.load()).mode).toBe('ghost')
  })

  it('refuses a state file it cannot trust, naming the file', async () => {
    await writeFile(path.join(dir.path, 'state.json'), '{"version":1,"mode":"sideways"}')
    await expect(new SidecarStateStore(dir.path).load()).rejects.toBeInstanceOf(SidecarStateError)
    await writeFile(path.join(dir.path, 'state.json'), 'not json')
    await expect(new SidecarStateStore(dir.path).load()).rejects.toThrow(/state\.json: not valid JSON/)
  })
})

describe('config file', () => {
  it('round-trips a config written by init, with the defaults filled in', async () => {
    const file = await writeSidecarConfig(dir.path, valid)
    expect((await readFile(file, 'utf8')).startsWith('# ghostfleet sidecar configuration')).toBe(true)
    const { config } = await loadSidecarConfig(dir.path, {})
    expect(config.supervision.intervalSeconds).toBe(10)
    expect(config.http.listen).toBe('127.0.0.1:26670')
    expect(config.pool.maxPoolAgeSeconds).toBe(600)
  })

  it('says what is missing, malformed or unknown, with the key and the value', async () => {
    await expect(loadSidecarConfig(dir.path, {})).rejects.toBeInstanceOf(ConfigNotFoundError)
    await writeFile(path.join(dir.path, 'config.toml'), '[node]\nbinary = "x"\nhome = \n')
    await expect(loadSidecarConfig(dir.path, {})).rejects.toThrow(/line 3, column \d+: not valid TOML/)
    await writeSidecarConfig(dir.path, valid)
    const text = await readFile(path.join(dir.path, 'config.toml'), 'utf8')
    await writeFile(
      path.join(dir.path, 'config.toml'),
      text
        .replace('poolId = 1', 'poolId = "one"\npoolid = 2')
        .replace('intervalSeconds = 10', 'intervalSeconds = -1'),
    )
    const error = await loadSidecarConfig(dir.path, {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    const message = (error as ValidationError).message
    expect(message).toMatch(/pool\.poolId: expected an integer ≥ 0, got "one"/)
    expect(message).toMatch(/unknown key "poolid" \(did you mean "poolId"\?\)/)
    expect(message).toMatch(/supervision\.intervalSeconds: must be between 0\.1 and 3600 seconds, got -1/)
  })

  it('takes the Redis URL from GHOSTFLEET_REDIS_URL', async () => {
    await writeSidecarConfig(dir.path, valid)
    const { config } = await loadSidecarConfig(dir.path, { GHOSTFLEET_REDIS_URL: 'redis://10.0.0.5:6379' })
    expect(config.fleet.redisUrl).toBe('redis://10.0.0.5:6379')
    await expect(loadSidecarConfig(dir.path, { GHOSTFLEET_REDIS_URL: 'http://nope' })).rejects.toThrow(
      /fleet\.redisUrl/,
    )
  })

  it('reports an unreadable file as such', async () => {
    await writeSidecarConfig(dir.path, valid)
    await rm(path.join(dir.path, 'config.toml'))
    await mkdir(path.join(dir.path, 'config.toml'))
    await expect(loadSidecarConfig(dir.path, {})).rejects.toThrow(/cannot read the file/)
  })
})

describe('supervysor import mapping', () => {
  it('maps cosmovisor, a disabled pruning interval and unknown fields, and says so', () => {
    const { inputs, notes } = mapSupervysorConfig(
      {
        BinaryPath: '/root/go/bin/cosmovisor',
        PruningInterval: 0,
        Metrics: false,
        OptOut: true,
        PoolEndpoints: '',
      },
      'supervysor.toml',
    )
    expect(inputs).toMatchObject({
      binary: '/root/go/bin/cosmovisor',
      launcher: 'cosmovisor',
      pruningEnabled: false,
    })
    expect(inputs.endpoints).toBeUndefined()
    expect(notes.join('\n')).toMatch(/PruningInterval = 0 → pruning\.enabled = false/)
    expect(notes.join('\n')).toMatch(/OptOut → unknown supervysor field, ignored/)
    expect(notes.join('\n')).toMatch(/Metrics = false → not mapped/)
    expect(notes.join('\n')).toMatch(/PoolEndpoints is empty/)
  })

  it('stores the seeds as a --p2p.seeds flag (normal mode only; ghost mode drops it)', () => {
    expect(composeNodeFlags('a@h:1,b@h:2', '--log_level info')).toBe(
      '--p2p.seeds a@h:1,b@h:2 --log_level info',
    )
    expect(composeNodeFlags('a@h:1, b@h:2', undefined)).toBe("--p2p.seeds 'a@h:1, b@h:2'")
    expect(composeNodeFlags(undefined, undefined)).toBe('')
  })
})
