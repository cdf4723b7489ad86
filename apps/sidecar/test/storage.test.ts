import path from 'node:path'
import {
  eventually,
  freePort,
  type GoleveldbTool,
  goleveldbTool,
  nodeStatus,
  SIMNODE_CLI,
  startProcess,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findLockedDatabases } from '../src/storage/database-locks.js'
import { directoryBytes } from '../src/storage/directory-size.js'
import { PruneAbortedError, pruneNodeHome, waitUntilUnlocked } from '../src/storage/offline-prune.js'
import { WaitTimeoutError } from '../src/wait-for.js'
import { generateHome } from './helpers/cli.js'

let dir: TempDir
let home: string
beforeAll(async () => {
  dir = await tempDir('gf-storage-')
  home = path.join(dir.path, 'home')
  await generateHome(home, 2_500)
})
afterAll(async () => {
  await dir.remove()
})

describe('database lock detection', () => {
  it('sees a running node holding its databases (and names it), and nothing once it stopped', async () => {
    const dataDir = path.join(home, 'data')
    expect(await findLockedDatabases(dataDir)).toEqual([])
    const rpcPort = await freePort()
    const node = startProcess(process.execPath, [
      SIMNODE_CLI,
      'start',
      '--home',
      home,
      '--rpc.laddr',
      `tcp://127.0.0.1:${rpcPort}`,
      '--p2p.laddr',
      `tcp://127.0.0.1:${await freePort()}`,
      '--log-level',
      'error',
    ])
    try {
      await eventually(async () => expect(await nodeStatus(`http://127.0.0.1:${rpcPort}`)).not.toBeNull(), {
        timeoutMs: 20_000,
      })
      const locked = await findLockedDatabases(dataDir)
      expect(locked.map((l) => l.db).sort()).toEqual(['blockstore.db', 'state.db'])
      for (const entry of locked) expect(entry.holders).toEqual([node.pid])
      // Waiting for the locks to be free is a condition with a deadline.
      await expect(waitUntilUnlocked(dataDir, 300)).rejects.toBeInstanceOf(WaitTimeoutError)
      const waiting = waitUntilUnlocked(dataDir, 20_000)
      await node.stop('SIGTERM')
      await waiting
    } finally {
      await node.stop('SIGKILL')
    }
    expect(await findLockedDatabases(dataDir)).toEqual([])
  })
})

describe('abortable offline prune', () => {
  // A home written by goleveldb, the node's own engine, read back through it: what the node will see.
  let nodeHome: string
  let tool: GoleveldbTool
  beforeAll(async () => {
    tool = await goleveldbTool()
    nodeHome = path.join(dir.path, 'goleveldb-home')
    await tool.generateHome({ home: nodeHome, chainId: 'gen-1', blocks: 2_500, partSize: 1_000 })
  }, 300_000)
  const nodeBase = async () =>
    (await tool.digest(path.join(nodeHome, 'data', 'blockstore.db'))).blockStore?.base ?? 0

  it('stops at a batch boundary when the sidecar shuts down, and the next run finishes the job', async () => {
    const controller = new AbortController()
    const phases: string[] = []
    await expect(
      pruneNodeHome({
        home: nodeHome,
        untilHeight: 2_400,
        statePruning: true,
        forceCompact: false,
        batchSize: 500,
        signal: controller.signal,
        onProgress: (p) => {
          phases.push(`${p.phase} ${p.done}`)
          if (p.phase === 'blocks' && p.done >= 1_000) controller.abort()
        },
      }),
    ).rejects.toBeInstanceOf(PruneAbortedError)
    // A consistent store whose base is the first unfinished batch.
    const interrupted = await nodeBase()
    expect(interrupted).toBeGreaterThan(1)
    expect(interrupted).toBeLessThan(2_400)
    const finished = await pruneNodeHome({
      home: nodeHome,
      untilHeight: 2_400,
      statePruning: true,
      forceCompact: false,
    })
    expect(finished.fromBase).toBe(interrupted)
    expect(await nodeBase()).toBe(2_400)
    expect(phases.length).toBeGreaterThan(0)
  })

  it('measures a data directory', async () => {
    expect(await directoryBytes(path.join(home, 'data'))).toBeGreaterThan(100_000)
    await expect(directoryBytes(path.join(dir.path, 'missing'))).rejects.toThrow()
  })
})
