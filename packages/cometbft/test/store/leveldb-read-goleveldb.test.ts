import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import {
  type GoleveldbTool,
  goleveldbTool,
  requireGoleveldb,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  blockMetaKey,
  blockPartKey,
  maskedCrc32c,
  openReadOnlyStore,
  readBlockStoreState,
} from '../../src/index.js'

// The read-only reader must answer exactly what goleveldb — the engine of a real CometBFT node — sees when it
// opens the same files: after a clean close, with data only in the journal (a crashed node), after deletes,
// after a compaction, and after C++ LevelDB (classic-level) wrote into the store, including the case where
// goleveldb silently drops C++ log batches. goleveldb's view comes from the conformance kit,
// always run on a copy (opening a store with goleveldb changes its files); the reader runs on the original,
// whose files must not change.

requireGoleveldb()

const BLOCKS = 3000
let tmp: TempDir
let gl: GoleveldbTool
let copies = 0

/** What goleveldb sees in `db` (key as latin1 → value), read from a copy with the kit's dump. */
async function goleveldbView(db: string): Promise<Map<string, Buffer>> {
  const copy = path.join(tmp.path, `view-${++copies}`)
  await cp(db, copy, { recursive: true })
  const file = `${copy}.dump`
  await gl.dump(copy, file)
  const view = new Map<string, Buffer>()
  const lines = createInterface({
    input: createReadStream(file, { encoding: 'latin1' }),
    crlfDelay: Infinity,
  })
  for await (const line of lines) {
    if (line === '') continue
    const tab = line.indexOf('\t')
    view.set(
      Buffer.from(line.slice(0, tab), 'hex').toString('latin1'),
      Buffer.from(line.slice(tab + 1), 'hex'),
    )
  }
  return view
}

async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir)).sort())
    out[name] = createHash('sha256')
      .update(await readFile(path.join(dir, name)))
      .digest('hex')
  return out
}

/** Keys that were never written but sort among the real ones. */
function absentKeys(): Buffer[] {
  return [
    Buffer.from('H:0'),
    Buffer.from(`H:${BLOCKS + 1}`),
    Buffer.from('H:12a'),
    Buffer.from('P:7:9'),
    Buffer.from('SC:'),
    Buffer.from('blockStorf'),
    Buffer.from('a'),
    Buffer.from('zzzz'),
    Buffer.from([0x00]),
    Buffer.from([0xff, 0xff, 0xff]),
  ]
}

/**
 * The reader and goleveldb agree on every key goleveldb sees, on `gone` (keys that existed before and must now be
 * absent) and on keys that never existed; the reader changed no file. Returns what the reader reported skipped.
 */
async function expectSameView(db: string, gone: Iterable<string> = []): Promise<readonly string[]> {
  const before = await fileHashes(db)
  const store = await openReadOnlyStore(db)
  let skipped: readonly string[]
  try {
    const view = await goleveldbView(db)
    expect(view.size).toBeGreaterThan(0)
    let mismatches = 0
    for (const [key, value] of view) {
      const got = await store.get(Buffer.from(key, 'latin1'))
      if (got === undefined || !got.equals(value)) {
        mismatches++
        if (mismatches < 5)
          expect
            .soft(got?.toString('hex').slice(0, 40), `key ${JSON.stringify(key)}`)
            .toBe(value.toString('hex').slice(0, 40))
      }
    }
    expect(mismatches, 'keys goleveldb sees that the reader reads differently').toBe(0)
    let resurrected = 0
    for (const key of gone) {
      if (view.has(key)) continue
      if ((await store.get(Buffer.from(key, 'latin1'))) !== undefined) resurrected++
    }
    expect(resurrected, 'keys goleveldb does not see that the reader returns').toBe(0)
    for (const key of absentKeys()) {
      if (!view.has(key.toString('latin1'))) expect(await store.get(key)).toBeUndefined()
    }
    skipped = store.skipped
  } finally {
    await store.close()
  }
  expect(await fileHashes(db)).toEqual(before)
  return skipped
}

/** Some random keys checked one by one with the kit's `get` (a node's point lookup), on a copy. */
async function expectSameGets(db: string, keys: Buffer[]): Promise<void> {
  const copy = path.join(tmp.path, `get-${++copies}`)
  await cp(db, copy, { recursive: true })
  const store = await openReadOnlyStore(db)
  try {
    for (const key of keys) {
      const theirs = await gl.get(copy, key)
      const ours = await store.get(key)
      expect(ours?.toString('hex'), key.toString('latin1')).toBe(theirs?.toString('hex'))
    }
  } finally {
    await store.close()
  }
}

function sampleKeys(count: number, seed: number): Buffer[] {
  const keys: Buffer[] = []
  let x = seed
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    const h = (x % (BLOCKS + 10)) + 1
    keys.push(i % 2 === 0 ? blockMetaKey(h) : blockPartKey(h, i % 3))
  }
  return keys
}

describe('the read-only reader sees what goleveldb sees', () => {
  let home: string
  let blockstore: string
  let state: string

  beforeAll(async () => {
    tmp = await tempDir('gf-ldbread-gl-')
    gl = await goleveldbTool()
    home = path.join(tmp.path, 'home')
    await gl.generateHome({
      home,
      chainId: 'read-1',
      blocks: BLOCKS,
      validatorChangeEvery: 400,
      paramsChangeEvery: 900,
    })
    blockstore = path.join(home, 'data', 'blockstore.db')
    state = path.join(home, 'data', 'state.db')
  }, 300_000)

  afterAll(async () => {
    await tmp.remove()
  })

  it('after a clean close: both stores, several levels of snappy tables', async () => {
    const store = await openReadOnlyStore(blockstore)
    const tables = store.manifest.levels.flat().length
    await store.close()
    expect(tables).toBeGreaterThan(3)
    expect(await expectSameView(blockstore)).toEqual([])
    expect(await expectSameView(state)).toEqual([])
    expect(await readBlockStoreState(path.join(home, 'data'))).toEqual({ base: 1, height: BLOCKS })
    expect((await gl.digest(await copyOf(blockstore))).blockStore).toEqual({ base: 1, height: BLOCKS })
    await expectSameGets(blockstore, sampleKeys(20, 1))
  })

  it('a node that exited without closing: the newest blocks exist only in the journal', async () => {
    const crashed = path.join(tmp.path, 'crashed')
    await gl.generateHome({ home: crashed, chainId: 'read-1', blocks: 1200, closeCleanly: false })
    const db = path.join(crashed, 'data', 'blockstore.db')
    const store = await openReadOnlyStore(db)
    const fromJournal = store.journals.length
    await store.close()
    expect(fromJournal).toBeGreaterThan(0)
    await expectSameView(db)
    await expectSameView(path.join(crashed, 'data', 'state.db'))
    expect(await readBlockStoreState(path.join(crashed, 'data'))).toEqual({ base: 1, height: 1200 })
  })

  it('a damaged journal: the reader drops exactly the chunks and batches goleveldb drops', async () => {
    const crashed = path.join(tmp.path, 'crashed-damaged')
    await gl.generateHome({ home: crashed, chainId: 'read-1', blocks: 900, closeCleanly: false, seed: 3 })
    const db = path.join(crashed, 'data', 'blockstore.db')
    const intact = [...(await goleveldbView(db)).keys()]
    const log = (await readdir(db)).filter((name) => name.endsWith('.log')).sort()
    const file = path.join(db, log[log.length - 1] as string)
    const bytes = await readFile(file)
    expect(bytes.length).toBeGreaterThan(3 * 32 * 1024)
    // One flipped byte inside the second 32 KiB block: its checksum fails, so the rest of that block is dropped,
    // and so are the records that had a part in it.
    const at = 32 * 1024 + 5000
    bytes[at] = (bytes[at] as number) ^ 0xff
    await writeFile(file, bytes)
    const skipped = await expectSameView(db, intact)
    expect(skipped.some((reason) => reason.includes('checksum mismatch'))).toBe(true)
  })

  it('after CometBFT PruneBlocks/PruneStates (deletes) and single deletes, then after a compaction', async () => {
    const pruned = path.join(tmp.path, 'pruned')
    await cp(home, pruned, { recursive: true })
    const db = path.join(pruned, 'data', 'blockstore.db')
    const before = await goleveldbView(db)
    await gl.prune(pruned, { untilHeight: 1800, states: true })
    await gl.del(db, blockMetaKey(2500))
    await gl.del(db, blockPartKey(2600, 1))
    const gone = [...before.keys()]
    await expectSameView(db, gone)
    await expectSameView(path.join(pruned, 'data', 'state.db'))
    expect(await readBlockStoreState(db)).toEqual({ base: 1800, height: BLOCKS })
    expect(
      (await openReadOnlyStore(db).then(async (s) => [await s.get(blockMetaKey(2500)), await s.close()]))[0],
    ).toBeUndefined()

    await gl.compact(db)
    await expectSameView(db, gone)
    await expectSameGets(db, sampleKeys(20, 2))
  })

  it('after C++ LevelDB wrote into it: a flushed write is seen; log-only batches goleveldb drops are dropped too', async () => {
    const cpp = path.join(tmp.path, 'cpp')
    await cp(home, cpp, { recursive: true })
    const db = path.join(cpp, 'data', 'blockstore.db')
    const gone: string[] = []
    const level = new ClassicLevel<Buffer, Buffer>(db, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await level.open()
    let batch = level.batch()
    for (let h = 1; h <= 600; h++) {
      batch.del(blockMetaKey(h))
      gone.push(blockMetaKey(h).toString('latin1'))
    }
    batch.put(Buffer.from('ghostfleet-test'), Buffer.from('flushed'))
    await batch.write()
    // A flush (C++ CompactRange flushes the memtable first): nothing of the above is left only in the log.
    await level.compactRange(Buffer.from('H:'), Buffer.from('H:;'))
    // Then 18 MB of writes in small batches: C++ flushes memtables and records its last sequence in the MANIFEST
    // while newer batches are still only in the log, so goleveldb skips some of them ("invalid sequence number").
    for (let b = 0; b < 600; b++) {
      batch = level.batch()
      for (let k = 0; k < 10; k++) {
        batch.put(Buffer.from(`X:${b * 10 + k}`), randomBytes(3000))
        // Written, but goleveldb may skip its batch: then the reader must not see it either.
        gone.push(`X:${b * 10 + k}`)
      }
      for (let k = 0; k < 2; k++) {
        const part = blockPartKey(601 + b * 2 + k, 0)
        batch.del(part)
        gone.push(part.toString('latin1'))
      }
      await batch.write()
    }
    await level.close()
    const skipped = await expectSameView(db, gone)
    const digest = await gl.digest(await copyOf(db))
    // The reader reports a skipped batch exactly where goleveldb logs a journal error.
    expect(skipped.filter((s) => s.includes('journal error')).length).toBe(digest.journalErrors.length)
    const store = await openReadOnlyStore(db)
    try {
      expect((await store.get(Buffer.from('ghostfleet-test')))?.toString()).toBe('flushed')
      expect(await store.get(blockMetaKey(300))).toBeUndefined()
    } finally {
      await store.close()
    }
  })
})

async function copyOf(db: string): Promise<string> {
  const copy = path.join(tmp.path, `copy-${++copies}`)
  await cp(db, copy, { recursive: true })
  return copy
}

/** LevelDB log-format framing of `records` (32 KiB blocks, FULL/FIRST/MIDDLE/LAST chunks, masked CRC-32C). */
function logFile(records: Buffer[]): Buffer {
  const BLOCK = 32 * 1024
  const out: Buffer[] = []
  let offset = 0
  for (const record of records) {
    let rest = record
    let first = true
    do {
      const left = BLOCK - (offset % BLOCK)
      if (left < 7) {
        out.push(Buffer.alloc(left))
        offset += left
        continue
      }
      const take = Math.min(rest.length, left - 7)
      const last = take === rest.length
      const type = first && last ? 1 : first ? 2 : last ? 4 : 3
      const header = Buffer.alloc(7)
      header.writeUInt16LE(take, 4)
      header[6] = type
      const payload = rest.subarray(0, take)
      header.writeUInt32LE(maskedCrc32c(Buffer.concat([Buffer.from([type]), payload])), 0)
      out.push(header, payload)
      offset += 7 + take
      rest = rest.subarray(take)
      first = false
    } while (rest.length > 0)
  }
  return Buffer.concat(out)
}

function varint(value: number | bigint): Buffer {
  const bytes: number[] = []
  let v = BigInt(value)
  do {
    const low = Number(v & 0x7fn)
    v >>= 7n
    bytes.push(v > 0n ? low | 0x80 : low)
  } while (v > 0n)
  return Buffer.from(bytes)
}

const lengthPrefixed = (b: Buffer) => Buffer.concat([varint(b.length), b])

describe('levels beyond C++ LevelDB’s seven', () => {
  it('reads a store whose MANIFEST puts tables at levels 7 and deeper, as goleveldb (dynamic levels) does', async () => {
    const dir = await tempDir('gf-ldbread-levels-')
    try {
      const kit = await goleveldbTool()
      const home = path.join(dir.path, 'home')
      await kit.generateHome({ home, chainId: 'levels-1', blocks: 3000 })
      const db = path.join(home, 'data', 'blockstore.db')
      // A full compaction leaves the data in disjoint tables below level 0.
      await kit.compact(db)
      const before = await openReadOnlyStore(db)
      const m = before.manifest
      await before.close()
      // Tables below level 0 are disjoint, so spreading them over levels 7, 8 and 9 keeps the version valid.
      let moved = 0
      const deeper = m.levels.flatMap((tables, level) =>
        tables.map((t) => ({ ...t, level: level === 0 ? 0 : 7 + (moved++ % 3) })),
      )
      const maxLevel = Math.max(...deeper.map((t) => t.level))
      expect(maxLevel).toBeGreaterThanOrEqual(8)
      // One version edit with everything, written as a new MANIFEST that CURRENT points to.
      const edit = Buffer.concat([
        varint(1),
        lengthPrefixed(Buffer.from(m.comparator)),
        varint(2),
        varint(m.logNumber),
        varint(3),
        varint(m.nextFileNumber + 1),
        varint(4),
        varint(m.lastSequence),
        ...deeper.flatMap((t) => [
          varint(7),
          varint(t.level),
          varint(t.number),
          varint(t.size),
          lengthPrefixed(t.smallest),
          lengthPrefixed(t.largest),
        ]),
      ])
      const name = `MANIFEST-${String(m.nextFileNumber).padStart(6, '0')}`
      await writeFile(path.join(db, name), logFile([edit]))
      await rm(m.manifestFile)
      await writeFile(path.join(db, 'CURRENT'), `${name}\n`)
      const store = await openReadOnlyStore(db)
      try {
        expect(store.manifest.levels.length).toBe(maxLevel + 1)
      } finally {
        await store.close()
      }
      // expectSameView works in the module's scratch directory with the module's kit.
      tmp = dir
      gl = kit
      await expectSameView(db)
    } finally {
      await dir.remove()
    }
  })
})
