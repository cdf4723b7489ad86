import { createHash } from 'node:crypto'
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  crc32c,
  encodeBlockStoreState,
  LevelDbCorruptionError,
  maskedCrc32c,
  openReadOnlyStore,
  readBlockStoreState,
  UnsupportedLevelDbError,
} from '../../src/index.js'

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function keyOf(i: number): Buffer {
  return Buffer.from(`k:${String(i).padStart(7, '0')}`)
}

/** Hashes of every file in a directory (name → sha256), to prove that reading changed nothing. */
async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir)).sort()) {
    out[name] = createHash('sha256')
      .update(await readFile(path.join(dir, name)))
      .digest('hex')
  }
  return out
}

type Db = ClassicLevel<Buffer, Buffer>
function openDb(location: string): Db {
  return new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
}

describe('CRC-32C', () => {
  it('matches the published check values', () => {
    // RFC 3720 B.4: 32 bytes of zeros → 0x8a9136aa; "123456789" → 0xe3069283.
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa)
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(maskedCrc32c(Buffer.alloc(0))).toBe(0xa282ead8)
  })
})

describe('openReadOnlyStore on a store written by C++ LevelDB (classic-level)', () => {
  let dir: TempDir
  let location: string
  /** What the store holds: key → value, undefined = deleted. */
  const truth = new Map<number, Buffer | undefined>()
  const KEYS = 30_000

  beforeAll(async () => {
    dir = await tempDir('gf-ldbread-')
    location = path.join(dir.path, 'db')
    const random = prng(7)
    const db = openDb(location)
    await db.open()
    // Values of 20..3000 bytes: many blocks, several tables, snappy-compressed (classic-level's default).
    for (let start = 0; start < KEYS; start += 1000) {
      const batch = db.batch()
      for (let i = start; i < start + 1000; i++) {
        const value = Buffer.alloc(20 + Math.floor(random() * 2980), String.fromCharCode(97 + (i % 26)))
        value.writeUInt32BE(i, 0)
        batch.put(keyOf(i), value)
        truth.set(i, value)
      }
      await batch.write()
    }
    // Deletions and overwrites that end up in tables, then more that stay only in the log.
    const deletes = db.batch()
    for (let i = 0; i < KEYS; i += 7) {
      deletes.del(keyOf(i))
      truth.set(i, undefined)
    }
    await deletes.write()
    await db.compactRange(Buffer.from([0x00]), Buffer.from([0xff, 0xff]))
    const overwrite = db.batch()
    for (let i = 3; i < KEYS; i += 11) {
      const value = Buffer.from(`overwritten-${i}`)
      overwrite.put(keyOf(i), value)
      truth.set(i, value)
    }
    for (let i = 5; i < KEYS; i += 13) {
      overwrite.del(keyOf(i))
      truth.set(i, undefined)
    }
    await overwrite.write()
    // Re-add some deleted keys (a put after a delete, both newer than the tables).
    for (let i = 14; i < 200; i += 14) {
      const value = Buffer.from(`revived-${i}`)
      await db.put(keyOf(i), value)
      truth.set(i, value)
    }
    await db.close()
  }, 120_000)

  afterAll(async () => {
    await dir.remove()
  })

  it('reads every key (present, deleted, overwritten in the log) as written, and changes no file', async () => {
    const before = await fileHashes(location)
    const store = await openReadOnlyStore(location)
    try {
      expect(store.manifest.levels.flat().length).toBeGreaterThan(1)
      expect(store.journals.length).toBeGreaterThan(0)
      expect(store.skipped).toEqual([])
      for (const [i, value] of truth) {
        const got = await store.get(keyOf(i))
        if (value === undefined) expect(got, `key ${i}`).toBeUndefined()
        else expect(got?.equals(value), `key ${i}`).toBe(true)
      }
      // Keys that never existed: before, between and after the written ones.
      for (const absent of ['', 'a', 'k:', 'k:00000005x', 'k:9999999', 'zzz']) {
        expect(await store.get(absent), absent).toBeUndefined()
      }
    } finally {
      await store.close()
    }
    expect(await fileHashes(location)).toEqual(before)
    expect((await readdir(location)).includes('LOCK')).toBe(true)
  })

  it('refuses a table whose block is damaged with a checksum error naming the file, not garbage', async () => {
    const copy = path.join(dir.path, 'corrupt')
    const { cp } = await import('node:fs/promises')
    await cp(location, copy, { recursive: true })
    const tables = (await readdir(copy)).filter((name) => name.endsWith('.ldb'))
    let largest = tables[0] as string
    for (const name of tables)
      if ((await stat(path.join(copy, name))).size > (await stat(path.join(copy, largest))).size)
        largest = name
    const file = path.join(copy, largest)
    const bytes = await readFile(file)
    for (let at = 100; at < bytes.length - 4096; at += 997) bytes[at] = (bytes[at] as number) ^ 0x5a
    await writeFile(file, bytes)
    const store = await openReadOnlyStore(copy)
    try {
      let error: unknown = null
      for (const i of truth.keys()) {
        try {
          await store.get(keyOf(i))
        } catch (e) {
          error = e
          break
        }
      }
      expect(error).toBeInstanceOf(LevelDbCorruptionError)
      expect((error as Error).message).toContain(largest)
      expect((error as Error).message).toMatch(/checksum mismatch/)
    } finally {
      await store.close()
    }
  })
})

describe('openReadOnlyStore refuses what it cannot read, clearly', () => {
  let dir: TempDir
  beforeAll(async () => {
    dir = await tempDir('gf-ldbread-bad-')
  })
  afterAll(async () => {
    await dir.remove()
  })

  async function smallStore(name: string, compression = true): Promise<string> {
    const location = path.join(dir.path, name)
    const db = new ClassicLevel<Buffer, Buffer>(location, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      compression,
    })
    await db.open()
    for (let i = 0; i < 500; i++) await db.put(keyOf(i), Buffer.alloc(300, i % 256))
    await db.compactRange(Buffer.from([0x00]), Buffer.from([0xff, 0xff]))
    await db.close()
    return location
  }

  it('a missing directory or no CURRENT file: not a LevelDB database', async () => {
    await expect(openReadOnlyStore(path.join(dir.path, 'nope'))).rejects.toThrow(/does not exist/)
    await expect(openReadOnlyStore(dir.path)).rejects.toThrow(/not a LevelDB database \(no CURRENT file\)/)
  })

  it('a missing MANIFEST: names the file CURRENT points to', async () => {
    const location = await smallStore('no-manifest')
    const current = (await readFile(path.join(location, 'CURRENT'), 'latin1')).trim()
    await rm(path.join(location, current))
    const error = await openReadOnlyStore(location).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnsupportedLevelDbError)
    expect((error as Error).message).toContain(`CURRENT names ${current}, which does not exist`)
  })

  it('a table file that is gone: names it', async () => {
    const location = await smallStore('no-table')
    for (const name of await readdir(location)) if (name.endsWith('.ldb')) await rm(path.join(location, name))
    const store = await openReadOnlyStore(location)
    try {
      await expect(store.get(keyOf(1))).rejects.toThrow(/names table \d{6}\.ldb, which does not exist/)
    } finally {
      await store.close()
    }
  })

  it('an unknown compression type: says which and what is supported', async () => {
    const location = await smallStore('zstd', false)
    // Rewrite the type byte of the first data block to 2 (zstd in newer C++ LevelDB) with a valid checksum.
    const table = (await readdir(location)).find((name) => name.endsWith('.ldb')) as string
    const file = path.join(location, table)
    const bytes = await readFile(file)
    // The first data block starts at 0; find its trailer through the index: simplest is to scan for the first
    // offset whose 5-byte trailer checksum matches an uncompressed block starting at 0.
    let size = -1
    for (let n = 1; n < bytes.length - 5; n++) {
      if (bytes[n] === 0 && bytes.readUInt32LE(n + 1) === maskedCrc32c(bytes.subarray(0, n + 1))) {
        size = n
        break
      }
    }
    expect(size).toBeGreaterThan(0)
    bytes[size] = 2
    bytes.writeUInt32LE(maskedCrc32c(bytes.subarray(0, size + 1)), size + 1)
    await writeFile(file, bytes)
    const store = await openReadOnlyStore(location)
    try {
      const error = await store.get(keyOf(0)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UnsupportedLevelDbError)
      expect((error as Error).message).toMatch(
        /compression type 2; .* knows only 0 \(none\) and 1 \(snappy\)/,
      )
    } finally {
      await store.close()
    }
  })

  it('readBlockStoreState: {0,0} without the key, base 1 for a height with base 0, v2 layout refused', async () => {
    const location = path.join(dir.path, 'data', 'blockstore.db')
    const db = openDb(location)
    await db.open()
    await db.put(Buffer.from('other'), Buffer.from('x'))
    await db.close()
    expect(await readBlockStoreState(path.join(dir.path, 'data'))).toEqual({ base: 0, height: 0 })
    const db2 = openDb(location)
    await db2.open()
    await db2.put(Buffer.from('blockStore'), Buffer.from(encodeBlockStoreState({ base: 0, height: 42 })))
    await db2.close()
    expect(await readBlockStoreState(location)).toEqual({ base: 1, height: 42 })
    const db3 = openDb(location)
    await db3.open()
    await db3.put(Buffer.from('version'), Buffer.from('v2'))
    await db3.close()
    await expect(readBlockStoreState(location)).rejects.toThrow(/"v2" key layout/)
  })
})
