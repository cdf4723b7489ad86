import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { LockCheckError, lockProbeFor } from '@ghostfleet/cometbft'
import { eventually, type GoleveldbTool, goleveldbTool, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LockCheckUnavailableError } from '../src/storage/database-locks.js'
import { lockedPrunedDatabases } from '../src/storage/offline-prune.js'

/*
 * Off Linux there is no /proc/locks. The lock check must still never open the node's databases with C++ LevelDB
 * (that replays goleveldb's journal into a table and writes a new MANIFEST): macOS and the BSDs take a flock and
 * release it, other platforms refuse. The platform is passed in, so both branches run here; that a flock sees
 * fcntl holders too is a property of the BSD kernels that Linux does not have, and is not tested here.
 */

let tool: GoleveldbTool
let dir: TempDir
let dataDir: string
const holders: ChildProcess[] = []

beforeAll(async () => {
  tool = await goleveldbTool()
  dir = await tempDir('gf-lock-probe-')
  const home = path.join(dir.path, 'home')
  // Not closed cleanly: the last writes are only in goleveldb's journal, which any LevelDB open would move.
  await tool.generateHome({ home, chainId: 'gf-lock-probe', blocks: 30, seed: 3, closeCleanly: false })
  dataDir = path.join(home, 'data')
})
afterAll(async () => {
  for (const holder of holders) holder.kill('SIGKILL')
  await dir.remove()
})

/** Every file of both databases with a hash of its contents: an open by any LevelDB changes this. */
async function files(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const db of ['blockstore.db', 'state.db']) {
    for (const name of (await readdir(path.join(dataDir, db))).sort()) {
      const bytes = await readFile(path.join(dataDir, db, name))
      out[`${db}/${name}`] = createHash('sha256').update(bytes).digest('hex')
    }
  }
  return out
}

describe('lock probe by platform', () => {
  it('reads /proc/locks on Linux, takes a flock where flock and fcntl locks are one, and refuses elsewhere', () => {
    expect(lockProbeFor('linux')).toBe('proc-locks')
    for (const platform of ['darwin', 'freebsd', 'openbsd', 'netbsd'] as const) {
      expect(lockProbeFor(platform)).toBe('flock')
    }
    for (const platform of ['win32', 'sunos', 'aix', 'cygwin', 'haiku'] as const) {
      expect(lockProbeFor(platform)).toBe('none')
    }
  })

  it('refuses on a platform where it cannot tell, naming it, and touches no file', async () => {
    const before = await files()
    const error = await lockedPrunedDatabases(dataDir, 'win32').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockCheckUnavailableError)
    // The prune command reports every LockCheckError as a refusal.
    expect(error).toBeInstanceOf(LockCheckError)
    expect((error as Error).message).toMatch(/cannot tell on win32 whether the node holds its databases/)
    expect(await files()).toEqual(before)
  })

  it("on macOS and the BSDs sees goleveldb's lock by flock alone and never opens the store", async () => {
    const before = await files()
    expect(await lockedPrunedDatabases(dataDir, 'darwin')).toEqual([])
    expect(await files()).toEqual(before)

    // The node: goleveldb keeps the store open (and its flock) until its stdin closes.
    const holder = spawn(tool.binary, ['hold', '--db', path.join(dataDir, 'blockstore.db')], {
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    holders.push(holder)
    const exited = new Promise((resolve) => holder.once('exit', resolve))
    let stderr = ''
    holder.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    await eventually(() => expect(stderr).toContain('holding'), {
      description: 'goleveldb holding blockstore.db',
    })
    // goleveldb's own open may move its journal; what the probe must not do is change anything after that.
    const held = await files()
    const locked = await lockedPrunedDatabases(dataDir, 'freebsd')
    expect(locked.map((entry) => entry.db)).toEqual(['blockstore.db'])
    expect(locked[0]?.lockFile).toBe(path.join(dataDir, 'blockstore.db', 'LOCK'))
    expect(await files()).toEqual(held)

    holder.stdin.end()
    await exited
    await eventually(async () => expect(await lockedPrunedDatabases(dataDir, 'darwin')).toEqual([]), {
      description: 'the lock free once goleveldb closed',
    })
  })
})
