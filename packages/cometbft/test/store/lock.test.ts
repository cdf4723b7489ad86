import { spawnSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  eventually,
  type GoleveldbTool,
  goleveldbTool,
  startProcess,
  type TempDir,
  type TestProcess,
  tempDir,
} from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  checkDatabaseUnlocked,
  DatabaseLockedError,
  holdFlock,
  LockCheckError,
  pruneHome,
} from '../../src/store/index.js'
import { type GoleveldbHomeSpec, goleveldbHome, snapshot } from './prune-fixtures.js'

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A small goleveldb-written node home: the tests here need databases, not history. */
const HOME: GoleveldbHomeSpec = { chainId: 'gf-lock', blocks: 20 }

let tool: GoleveldbTool
let tmp: TempDir
let home: string
let dataDir: string
let children: TestProcess[]

beforeAll(async () => {
  tool = await goleveldbTool()
})

beforeEach(async () => {
  tmp = await tempDir('gf-lock-')
  ;({ home, dataDir } = await goleveldbHome(tool, path.join(tmp.path, 'home'), HOME))
  children = []
})

afterEach(async () => {
  for (const c of children) await c.stop('SIGKILL')
  await tmp.remove()
})

/** A goleveldb stand-in: a process holding flock(2) on the LOCK file, as a running CometBFT node does. */
async function holdWithFlock(lockPath: string): Promise<TestProcess> {
  // --no-fork: flock execs the command itself, so killing it releases the lock.
  const child = startProcess('flock', ['--no-fork', lockPath, 'sh', '-c', 'echo held; exec sleep 600'])
  children.push(child)
  await eventually(() => expect(child.output()).toContain('held'), {
    description: 'flock child holding the lock',
  })
  return child
}

/** The simulated node: another process with the database open through classic-level (fcntl lock). */
async function holdWithClassicLevel(dbDir: string): Promise<TestProcess> {
  const code =
    "const { ClassicLevel } = require('classic-level');" +
    'const db = new ClassicLevel(process.argv[1]);' +
    "db.open().then(() => { console.log('open'); setInterval(() => {}, 1 << 30) })"
  const child = startProcess(process.execPath, ['-e', code, dbDir], { cwd: PACKAGE_DIR })
  children.push(child)
  await eventually(() => expect(child.output()).toContain('open'), {
    description: 'classic-level child open',
  })
  return child
}

describe('checkDatabaseUnlocked', () => {
  it('reports a free database, and a missing LOCK file as free', async () => {
    expect(await checkDatabaseUnlocked(path.join(dataDir, 'blockstore.db'))).toEqual({ locked: false })
    const empty = path.join(tmp.path, 'empty.db')
    await mkdir(empty)
    expect(await checkDatabaseUnlocked(empty)).toEqual({ locked: false })
    expect(await checkDatabaseUnlocked(path.join(tmp.path, 'absent.db'))).toEqual({ locked: false })
  })

  it('sees a flock (goleveldb) holder, and the lock is free again once it exits', async () => {
    const db = path.join(dataDir, 'blockstore.db')
    const child = await holdWithFlock(path.join(db, 'LOCK'))
    const status = await checkDatabaseUnlocked(db)
    expect(status).toMatchObject({ locked: true, by: 'flock' })
    expect(status.locked && status.detail).toContain(`held by pid ${child.pid}`)
    await child.stop('SIGTERM')
    expect(await checkDatabaseUnlocked(db)).toEqual({ locked: false })
  })

  it('sees an fcntl (C++ LevelDB) holder in another process', async () => {
    const db = path.join(dataDir, 'state.db')
    const child = await holdWithClassicLevel(db)
    const status = await checkDatabaseUnlocked(db)
    expect(status).toMatchObject({ locked: true, by: 'fcntl' })
    expect(status.locked && status.detail).toMatch(/Resource temporarily unavailable/)
    expect(status.locked && status.detail).toContain(`held by pid ${child.pid}`)
    await child.stop('SIGKILL')
    await eventually(async () => expect(await checkDatabaseUnlocked(db)).toEqual({ locked: false }))
  })

  it('sees this process holding the database open', async () => {
    const db = new ClassicLevel(path.join(dataDir, 'blockstore.db'), { createIfMissing: false })
    await db.open()
    try {
      expect(await checkDatabaseUnlocked(path.join(dataDir, 'blockstore.db'))).toMatchObject({
        locked: true,
        by: 'fcntl',
      })
    } finally {
      await db.close()
    }
  })

  it('says what to install when flock is missing', async () => {
    const saved = process.env.PATH
    process.env.PATH = path.join(tmp.path, 'no-bin')
    try {
      const err = await checkDatabaseUnlocked(path.join(dataDir, 'blockstore.db')).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(LockCheckError)
      expect((err as Error).message).toMatch(/util-linux.*brew install flock/)
    } finally {
      process.env.PATH = saved
    }
  })
})

describe('holdFlock', () => {
  it('keeps a goleveldb-style opener out until released', async () => {
    const lockPath = path.join(dataDir, 'blockstore.db', 'LOCK')
    const hold = await holdFlock(lockPath)
    expect(hold).not.toBeNull()
    expect(await holdFlock(lockPath)).toBeNull()
    await hold!.release()
    const again = await holdFlock(lockPath)
    expect(again).not.toBeNull()
    await again!.release()
  })
})

describe('pruneHome refuses a running node', () => {
  it('held by flock (goleveldb)', async () => {
    const before = await snapshot(dataDir)
    await holdWithFlock(path.join(dataDir, 'state.db', 'LOCK'))
    const err = await pruneHome({ home, untilHeight: 10 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatabaseLockedError)
    expect((err as Error).message).toMatch(/state\.db\/LOCK is flock\(\)ed by another process: stop the node/)
    expect(await snapshot(dataDir)).toEqual(before)
    // Our own flock on blockstore.db was released on the way out.
    expect(await checkDatabaseUnlocked(path.join(dataDir, 'blockstore.db'))).toEqual({ locked: false })
  })

  it('held by classic-level (fcntl) in another process', async () => {
    const before = await snapshot(dataDir)
    await holdWithClassicLevel(path.join(dataDir, 'blockstore.db'))
    const err = await pruneHome({ home, untilHeight: 10 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatabaseLockedError)
    expect((err as Error).message).toMatch(/blockstore\.db is locked by another process \(fcntl\)/)
    for (const c of children) await c.stop('SIGKILL')
    expect(await snapshot(dataDir)).toEqual(before)
  })

  it('while pruning, a goleveldb-style node cannot open the databases', async () => {
    const statuses: Array<number | null> = []
    await pruneHome({
      home,
      untilHeight: 15,
      batchSize: 2,
      onProgress: () => {
        // Synchronously, so the prune is certainly still running: flock(1) in non-blocking mode exits 1 while
        // someone else holds the LOCK.
        for (const db of ['blockstore.db', 'state.db']) {
          statuses.push(spawnSync('flock', ['--nonblock', path.join(dataDir, db, 'LOCK'), 'true']).status)
        }
      },
    })
    expect(statuses.length).toBeGreaterThan(2)
    expect(new Set(statuses)).toEqual(new Set([1]))
    expect(
      spawnSync('flock', ['--nonblock', path.join(dataDir, 'blockstore.db', 'LOCK'), 'true']).status,
    ).toBe(0)
  })
})
