import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { GenerateHomeOptions, GoleveldbDigest, GoleveldbTool } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import type { NextBlockOptions, SyntheticChainOptions } from '../../src/store/index.js'
import { writeChain } from './chain-fixtures.js'
import { dumpDb } from './helpers.js'

const execFileAsync = promisify(execFile)

/** Both databases as sorted "key=hexvalue" lines. */
export interface Snapshot {
  blocks: Map<string, string>
  states: Map<string, string>
}

export async function snapshot(dataDir: string): Promise<Snapshot> {
  const hexMap = (m: Map<string, Buffer>) => new Map([...m].map(([k, v]) => [k, v.toString('hex')]))
  return {
    blocks: hexMap(await dumpDb(path.join(dataDir, 'blockstore.db'))),
    states: hexMap(await dumpDb(path.join(dataDir, 'state.db'))),
  }
}

/** A node home with a synthetic chain in `<home>/data` and, optionally, a config.toml. */
export async function makeHome(
  home: string,
  blocks: number,
  opts: {
    changes?: Record<number, NextBlockOptions>
    chain?: Partial<SyntheticChainOptions>
    configToml?: string
  } = {},
): Promise<{ home: string; dataDir: string }> {
  const dataDir = path.join(home, 'data')
  await writeChain(dataDir, blocks, {
    batch: 500,
    ...(opts.changes ? { changes: opts.changes } : {}),
    ...(opts.chain ? { chain: opts.chain } : {}),
  })
  if (opts.configToml !== undefined) {
    await mkdir(path.join(home, 'config'), { recursive: true })
    await writeFile(path.join(home, 'config', 'config.toml'), opts.configToml)
  }
  return { home, dataDir }
}

export async function copyHome(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true })
}

/** A goleveldb-written home, as {@link GoleveldbTool.generateHome} takes it (without `home`). */
export type GoleveldbHomeSpec = Omit<GenerateHomeOptions, 'home'>

/**
 * 100,000 blocks × 2 parts × 3,000 bytes with validator-set and params changes: the store the conformance and
 * kill tests prune (the size). About 800 MB.
 */
export const STORE_100K: GoleveldbHomeSpec = {
  chainId: 'gf-prune-100k',
  blocks: 100_000,
  partsPerBlock: 2,
  partSize: 3000,
  validatorChangeEvery: 25_000,
  paramsChangeEvery: 40_000,
  seed: 11,
}

/**
 * Copies a goleveldb-written home generated with `spec` to `home`. Generation is deterministic (seeded), so the
 * generated home is cached under the OS temp dir, keyed by the kit binary (whose path holds the hash of the Go
 * sources) and the spec: a 100k-block home takes minutes to write, a copy seconds. The cache entry appears by an
 * atomic rename only when complete.
 */
export async function goleveldbHome(
  tool: GoleveldbTool,
  home: string,
  spec: GoleveldbHomeSpec,
): Promise<{ home: string; dataDir: string }> {
  const key = createHash('sha256').update(tool.binary).update(JSON.stringify(spec)).digest('hex').slice(0, 16)
  const cacheRoot = path.join(os.tmpdir(), 'ghostfleet-prune-homes')
  const cached = path.join(cacheRoot, key)
  if ((await stat(path.join(cached, 'data')).catch(() => null)) === null) {
    await mkdir(cacheRoot, { recursive: true })
    const building = `${cached}.tmp-${process.pid}-${Date.now()}`
    await tool.generateHome({ ...spec, home: building })
    await rename(building, cached).catch(async (error: NodeJS.ErrnoException) => {
      // Another test process finished the same home first: use that one.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
      await rm(building, { recursive: true, force: true })
    })
  }
  await mkdir(path.dirname(home), { recursive: true })
  await execFileAsync('cp', ['--reflink=auto', '-r', cached, home])
  return { home, dataDir: path.join(home, 'data') }
}

/** What goleveldb sees in both databases of a data directory (opening them as a node does). */
export interface GoleveldbView {
  blocks: GoleveldbDigest
  states: GoleveldbDigest
}

export async function goleveldbView(tool: GoleveldbTool, dataDir: string): Promise<GoleveldbView> {
  return {
    blocks: await tool.digest(path.join(dataDir, 'blockstore.db')),
    states: await tool.digest(path.join(dataDir, 'state.db')),
  }
}

/** The kit's digest (sha256 over uint32be(len k) k uint32be(len v) v in key order) of classic-level's view. */
export async function classicLevelSha256(location: string): Promise<{ keys: number; sha256: string }> {
  const db = new ClassicLevel<Buffer, Buffer>(location, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  await db.open()
  const hash = createHash('sha256')
  const len = Buffer.alloc(4)
  let keys = 0
  try {
    const it = db.iterator()
    try {
      for (;;) {
        const page = await it.nextv(1000)
        if (page.length === 0) break
        for (const [k, v] of page) {
          len.writeUInt32BE(k.length)
          hash.update(len)
          hash.update(k)
          len.writeUInt32BE(v.length)
          hash.update(len)
          hash.update(v)
          keys++
        }
      }
    } finally {
      await it.close()
    }
  } finally {
    await db.close()
  }
  return { keys, sha256: hash.digest('hex') }
}

/** Both databases as goleveldb reads them (`tool.dump`), keys as latin1 strings, values as hex. */
export async function goleveldbSnapshot(
  tool: GoleveldbTool,
  dataDir: string,
  scratch: string,
): Promise<Snapshot> {
  const read = async (db: string) => {
    const out = path.join(scratch, `dump-${db}-${process.pid}-${Date.now()}.tsv`)
    await tool.dump(path.join(dataDir, db), out)
    const map = new Map<string, string>()
    for (const line of (await readFile(out, 'latin1')).split('\n')) {
      if (line === '') continue
      const [k, v] = line.split('\t') as [string, string]
      map.set(Buffer.from(k, 'hex').toString('latin1'), v ?? '')
    }
    await rm(out, { force: true })
    return map
  }
  return { blocks: await read('blockstore.db'), states: await read('state.db') }
}

/** Every file of a directory tree (relative name → sha256 of its bytes): "nothing changed" means equal maps. */
export async function fileHashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (d: string) => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile())
        out.set(
          path.relative(dir, p),
          createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        )
    }
  }
  await walk(dir)
  return out
}

function heightOf(key: string, prefix: string): number | null {
  if (!key.startsWith(prefix)) return null
  const rest = key.slice(prefix.length)
  const n = Number(rest.split(':')[0])
  return Number.isInteger(n) ? n : null
}

/**
 * What the pruner leaves of `before` (its module comment), computed from the key names alone: blocks with a meta
 * and state entries at heights in [base, H) go, except the state keep sets given by the test. With `base` = the
 * lowest height in the store this is also CometBFT's PruneBlocks(H) + PruneStates(base, H) (cometbft.md §1.5,
 * §2.4); with a higher `base` it is CometBFT's result on a store whose older heights are already gone.
 */
export function expectedAfterPrune(
  before: Snapshot,
  base: number,
  until: number,
  keep: { validators: number[]; consensusParams: number[] },
  opts: { statePruning?: boolean } = {},
): { blocks: string[]; states: string[] } {
  const pruned = (h: number | null) => h !== null && h >= base && h < until
  const blocks: string[] = []
  for (const [k, v] of before.blocks) {
    if (k === 'blockStore') continue
    if (k.startsWith('BH:')) {
      if (!pruned(Number(Buffer.from(v, 'hex').toString('latin1')))) blocks.push(k)
      continue
    }
    const h =
      heightOf(k, 'H:') ?? heightOf(k, 'P:') ?? heightOf(k, 'C:') ?? heightOf(k, 'SC:') ?? heightOf(k, 'EC:')
    if (!pruned(h)) blocks.push(k)
  }
  blocks.push('blockStore')
  const states: string[] = []
  for (const k of before.states.keys()) {
    if (opts.statePruning === false) {
      states.push(k)
      continue
    }
    const v = heightOf(k, 'validatorsKey:')
    if (v !== null) {
      if (!pruned(v) || keep.validators.includes(v)) states.push(k)
      continue
    }
    const p = heightOf(k, 'consensusParamsKey:')
    if (p !== null) {
      if (!pruned(p) || keep.consensusParams.includes(p)) states.push(k)
      continue
    }
    if (!pruned(heightOf(k, 'abciResponsesKey:'))) states.push(k)
  }
  return { blocks: blocks.sort(), states: states.sort() }
}

export function keysOf(s: Snapshot): { blocks: string[]; states: string[] } {
  return { blocks: [...s.blocks.keys()].sort(), states: [...s.states.keys()].sort() }
}
