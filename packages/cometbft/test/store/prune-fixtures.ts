import { cp, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { NextBlockOptions, SyntheticChainOptions } from '../../src/store/index.js'
import { writeChain } from './chain-fixtures.js'
import { dumpDb } from './helpers.js'

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

function heightOf(key: string, prefix: string): number | null {
  if (!key.startsWith(prefix)) return null
  const rest = key.slice(prefix.length)
  const n = Number(rest.split(':')[0])
  return Number.isInteger(n) ? n : null
}

/**
 * What CometBFT's PruneBlocks(H) + PruneStates(base, H) leave of `before` (cometbft.md §1.5, §2.4), computed from the
 * key names alone: heights in [base, H) go, except the state keep sets given by the test.
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
