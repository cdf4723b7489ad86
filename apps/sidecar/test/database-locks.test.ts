import { execFileSync } from 'node:child_process'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { eventually, startProcess, type TempDir, type TestProcess, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deviceNumbers,
  findLockedDatabases,
  locksOnFile,
  type ProcLock,
  parseProcLocks,
} from '../src/storage/database-locks.js'

/*
 * Node homes on different filesystems hold LOCK files with the same inode numbers; a lock is ours only if its
 * device is our LOCK file's too, or its holder has our LOCK file open (overlay filesystems, where /proc/locks and
 * stat() disagree on the device).
 */

let dir: TempDir
const started: TestProcess[] = []

beforeAll(async () => {
  dir = await tempDir('gf-database-locks-')
})
afterAll(async () => {
  for (const child of started) await child.stop('SIGKILL')
  await dir.remove()
})

/**
 * A process holding an exclusive flock(2) on `file` (and keeping it open) until stopped: `flock --no-fork` becomes
 * the `sleep`, so one pid holds the lock and stopping it frees the lock.
 */
async function holdFlock(file: string): Promise<TestProcess> {
  const holder = startProcess('flock', ['--exclusive', '--no-fork', file, 'sleep', '600'])
  started.push(holder)
  const { ino } = await stat(file, { bigint: true })
  // Read /proc/locks directly, not through the parser under test.
  await eventually(
    async () => {
      const lines = (await readFile('/proc/locks', 'utf8')).split('\n')
      expect(lines.some((line) => line.includes(` ${holder.pid} `) && line.includes(`:${ino} `))).toBe(true)
    },
    { timeoutMs: 10_000 },
  )
  return holder
}

function procLocksLine(n: number, pid: number, major: number, minor: number, inode: bigint): string {
  return `${n}: FLOCK  ADVISORY  WRITE ${pid} ${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${inode} 0 EOF`
}

describe('device numbers', () => {
  it('decodes stat() device numbers the way /proc/locks prints them', async () => {
    expect(deviceNumbers(0x802n)).toEqual({ major: 8, minor: 2 })
    // major 259 (NVMe), minor 300: the minor's high bits sit above the major's.
    expect(deviceNumbers(0x11032cn)).toEqual({ major: 259, minor: 300 })
    expect(parseProcLocks('1: POSIX  ADVISORY  WRITE 42 103:12c:77 0 EOF')).toEqual([
      { kind: 'posix', pid: 42, major: 259, minor: 300, inode: 77n },
    ])
  })

  it("agrees with the kernel on a real lock's device", async () => {
    const file = path.join(dir.path, 'real-LOCK')
    await writeFile(file, '')
    const holder = await holdFlock(file)
    const info = await stat(file, { bigint: true })
    const lock = parseProcLocks(await readFile('/proc/locks', 'utf8')).find(
      (entry) => entry.pid === holder.pid && entry.inode === info.ino,
    )
    expect(lock).toBeDefined()
    expect({ major: lock?.major, minor: lock?.minor }).toEqual(deviceNumbers(info.dev))
  })
})

describe('which /proc/locks entries are on our LOCK file', () => {
  it('ignores a lock on the same inode number of another device unless its holder has our file open', async () => {
    const file = path.join(dir.path, 'ours', 'LOCK')
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, '')
    const identity = await stat(file, { bigint: true })
    const { major, minor } = deviceNumbers(identity.dev)
    const otherMinor = minor + 1

    // A neighbour on another disk: same inode number, another device, a process without our file open.
    const neighbour = startProcess('sleep', ['600'])
    started.push(neighbour)
    // A holder of our file whose device /proc/locks reports differently (as on an overlay filesystem).
    const holder = await holdFlock(file)
    const gonePid = 2 ** 22 + 1 // above the largest pid_max: no such process

    const locks: ProcLock[] = parseProcLocks(
      [
        procLocksLine(1, neighbour.pid, major, otherMinor, identity.ino),
        `1: -> FLOCK  ADVISORY  WRITE ${gonePid} ${major.toString(16)}:${minor.toString(16)}:${identity.ino} 0 EOF`,
        procLocksLine(2, gonePid, major, minor, identity.ino + 1n),
      ].join('\n'),
    )
    expect(locks).toHaveLength(2)
    expect(await locksOnFile(locks, file, identity)).toEqual([])

    const sameDevice = parseProcLocks(procLocksLine(3, gonePid, major, minor, identity.ino))
    expect(await locksOnFile(sameDevice, file, identity)).toEqual(sameDevice)

    const heldElsewhereReported = parseProcLocks(
      procLocksLine(4, holder.pid, major, otherMinor, identity.ino),
    )
    expect(await locksOnFile(heldElsewhereReported, file, identity)).toEqual(heldElsewhereReported)
  })
})

const isRoot = process.getuid?.() === 0
describe.skipIf(!isRoot)('node homes on two filesystems (mounts two tmpfs: needs root)', () => {
  const mounts: string[] = []
  afterAll(async () => {
    // A holder still running (a failed assertion) keeps its mount busy.
    for (const child of started) await child.stop('SIGKILL')
    for (const mount of mounts) execFileSync('umount', [mount])
  })

  it("does not take a neighbour's lock on the same inode number for our database", async () => {
    const homes: string[] = []
    for (const name of ['disk-a', 'disk-b']) {
      const mount = path.join(dir.path, name)
      await mkdir(mount)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount])
      mounts.push(mount)
      await mkdir(path.join(mount, 'data', 'blockstore.db'), { recursive: true })
      await writeFile(path.join(mount, 'data', 'blockstore.db', 'LOCK'), '')
      homes.push(mount)
    }
    const [ours, neighbours] = homes as [string, string]
    const ourLock = await stat(path.join(ours, 'data', 'blockstore.db', 'LOCK'), { bigint: true })
    const theirLock = await stat(path.join(neighbours, 'data', 'blockstore.db', 'LOCK'), { bigint: true })
    // The premise: fresh filesystems number the same files alike.
    expect(theirLock.ino).toBe(ourLock.ino)
    expect(theirLock.dev).not.toBe(ourLock.dev)

    const neighbour = await holdFlock(path.join(neighbours, 'data', 'blockstore.db', 'LOCK'))
    expect(await findLockedDatabases(path.join(ours, 'data'))).toEqual([])
    const theirs = await findLockedDatabases(path.join(neighbours, 'data'))
    expect(theirs.map((entry) => [entry.db, entry.kind])).toEqual([['blockstore.db', 'flock']])
    expect(theirs[0]?.holders).toEqual([neighbour.pid])
  })
})
