/**
 * A prune interrupted anywhere leaves a consistent store, and the next run with the same height ends with exactly
 * the keys and values of an uninterrupted run.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, startProcess, type TempDir, tempDir } from '@ghostfleet/testkit'
import ts from 'typescript'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  ChainStore,
  checkDatabaseUnlocked,
  decodeBlockStoreState,
  type PruneProgress,
  pruneHome,
} from '../../src/store/index.js'
import { STANDARD_CHANGES } from './chain-fixtures.js'
import { copyHome, makeHome, type Snapshot, snapshot } from './prune-fixtures.js'

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

let tmp: TempDir
let home: string
let reference: Snapshot

const CHAIN_LENGTH = 120
const UNTIL = 100
const BATCH = 9

/** Home with a chain, and the snapshot an uninterrupted prune to UNTIL produces on a copy of it. */
beforeEach(async () => {
  tmp = await tempDir('gf-prune-crash-')
  ;({ home } = await makeHome(path.join(tmp.path, 'home'), CHAIN_LENGTH, { changes: STANDARD_CHANGES }))
  const refHome = path.join(tmp.path, 'reference')
  await copyHome(home, refHome)
  await pruneHome({ home: refHome, untilHeight: UNTIL, batchSize: BATCH })
  reference = await snapshot(path.join(refHome, 'data'))
})

afterEach(async () => {
  await tmp.remove()
})

/** Invariants of any store state a prune can leave behind: a consistent block store from its base up. */
async function expectConsistent(dataDir: string): Promise<number> {
  const s = await snapshot(dataDir)
  const bs = decodeBlockStoreState(Buffer.from(s.blocks.get('blockStore')!, 'hex'))
  expect(bs.height).toBe(CHAIN_LENGTH)
  expect(bs.base).toBeGreaterThanOrEqual(1)
  expect(bs.base).toBeLessThanOrEqual(UNTIL)
  for (let h = 1; h <= CHAIN_LENGTH; h++) {
    expect(s.blocks.has(`H:${h}`), `H:${h} with base ${bs.base}`).toBe(h >= bs.base)
    expect(s.blocks.has(`P:${h}:0`), `P:${h}:0 with base ${bs.base}`).toBe(h >= bs.base)
  }
  // Every block the store claims is fully loadable, and its state is there.
  const store = await ChainStore.open(dataDir, { readOnly: true })
  try {
    for (let h = bs.base; h <= CHAIN_LENGTH; h++) expect(await store.loadBlock(h)).not.toBeNull()
    for (let h = UNTIL; h <= CHAIN_LENGTH; h++) expect(await store.loadValidators(h)).not.toBeNull()
  } finally {
    await store.close()
  }
  return bs.base
}

describe('interrupted by an exception', () => {
  it.each([
    ['states', 1],
    ['states', 5],
    ['blocks', 1],
    ['blocks', 7],
  ] as Array<[PruneProgress['phase'], number]>)(
    'after %s batch %i, then completed by the next run',
    async (phase, n) => {
      let seen = 0
      const boom = new Error('interrupted')
      const err = await pruneHome({
        home,
        untilHeight: UNTIL,
        batchSize: BATCH,
        onProgress: (p) => {
          if (p.phase === phase && ++seen === n) throw boom
        },
      }).catch((e: unknown) => e)
      expect(err).toBe(boom)
      const dataDir = path.join(home, 'data')
      const base = await expectConsistent(dataDir)
      expect(base).toBe(phase === 'blocks' ? 1 + n * BATCH : 1 + (n - 1) * BATCH)
      expect(await checkDatabaseUnlocked(path.join(dataDir, 'blockstore.db'))).toEqual({ locked: false })
      const second = await pruneHome({ home, untilHeight: UNTIL, batchSize: BATCH })
      expect(second.fromBase).toBe(base)
      expect(await snapshot(dataDir)).toEqual(reference)
    },
  )
})

describe('killed with SIGKILL', () => {
  let childBuild: TempDir
  let childModule: string

  beforeAll(async () => {
    // The child runs the current sources, transpiled here (not dist/, which may be stale), in a directory whose
    // node_modules points at the workspace's so classic-level, smol-toml and zod resolve.
    childBuild = await tempDir('gf-prune-child-')
    const out = path.join(childBuild.path, 'store')
    await mkdir(out, { recursive: true })
    const srcDir = path.join(PACKAGE_DIR, 'src', 'store')
    for (const f of await readdir(srcDir)) {
      if (!f.endsWith('.ts')) continue
      const source = await readFile(path.join(srcDir, f), 'utf8')
      const js = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText
      await writeFile(path.join(out, f.replace(/\.ts$/, '.js')), js)
    }
    await writeFile(path.join(childBuild.path, 'package.json'), '{ "type": "module" }\n')
    await symlink(
      path.join(PACKAGE_DIR, '..', '..', 'node_modules'),
      path.join(childBuild.path, 'node_modules'),
    )
    childModule = path.join(out, 'index.js')
  })

  afterAll(async () => {
    await childBuild.remove()
  })

  async function runChild(batch: number, pauseAtBlocksBatch: number | null) {
    const script = path.join(tmp.path, 'prune-child.mjs')
    await writeFile(
      script,
      `import { pruneHome } from ${JSON.stringify(childModule)}
const [home, until, batch, pauseAt] = process.argv.slice(2)
let blocks = 0
await pruneHome({ home, untilHeight: Number(until), batchSize: Number(batch), onProgress: (p) => {
  process.stdout.write(p.phase + ' ' + p.done + '\\n')
  if (p.phase === 'blocks' && ++blocks === Number(pauseAt)) {
    process.stdout.write('paused\\n')
    // Park the process right after a batch was written, until the test kills it.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  }
} })
process.stdout.write('done\\n')
`,
    )
    return startProcess(process.execPath, [
      script,
      home,
      String(UNTIL),
      String(batch),
      String(pauseAtBlocksBatch ?? -1),
    ])
  }

  async function completeAfterKill() {
    const dataDir = path.join(home, 'data')
    // The killed child's flock helpers notice their closed stdin and exit: wait for the locks to be free.
    for (const db of ['blockstore.db', 'state.db']) {
      await eventually(
        async () => expect(await checkDatabaseUnlocked(path.join(dataDir, db))).toEqual({ locked: false }),
        {
          description: `${db} unlocked after the kill`,
        },
      )
    }
    const base = await expectConsistent(dataDir)
    await pruneHome({ home, untilHeight: UNTIL, batchSize: BATCH })
    expect(await snapshot(dataDir)).toEqual(reference)
    return base
  }

  it('right after a batch: the next run completes it', async () => {
    const child = await runChild(BATCH, 4)
    try {
      await eventually(() => expect(child.output()).toContain('paused'), {
        timeoutMs: 30_000,
        description: 'child paused',
      })
      expect(await child.stop('SIGKILL')).toBe('SIGKILL')
    } finally {
      await child.stop('SIGKILL')
    }
    expect(await completeAfterKill()).toBe(1 + 4 * BATCH)
  })

  it('at whatever point it has reached: the next run completes it', async () => {
    // One height per batch (two fsyncs each): the kill lands somewhere in the middle of ~100 batches, possibly
    // inside a write. The final result does not depend on the batch size.
    const child = await runChild(1, null)
    try {
      await eventually(() => expect(child.output()).toMatch(/blocks \d+/), {
        timeoutMs: 30_000,
        description: 'child pruning',
      })
      await child.stop('SIGKILL')
    } finally {
      await child.stop('SIGKILL')
    }
    expect(child.output()).not.toContain('done')
    expect(await completeAfterKill()).toBeLessThan(UNTIL)
  })
})
