import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AddressBookError,
  type AddressBookStep,
  addressBookSchema,
  readAddressBook,
  readAddressBookStash,
  restoreAddressBook,
  stashAddressBook,
} from '../../src/node/index.js'

/** A book as CometBFT writes it: encoding/json MarshalIndent with tabs, numbers as numbers. */
function realBook(count: number): string {
  const addrs = Array.from({ length: count }, (_, i) => ({
    addr: { id: `${i.toString(16).padStart(2, '0')}${'ab'.repeat(19)}`, ip: `65.108.${i}.17`, port: 26656 },
    src: { id: 'c9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3', ip: '162.55.132.230', port: 2000 },
    buckets: i % 2 === 0 ? [27, 140] : [12],
    attempts: i % 3,
    bucket_type: i % 2 === 0 ? 1 : 2,
    last_attempt: '2024-09-30T13:58:41.552839706Z',
    last_success: i % 2 === 0 ? '0001-01-01T00:00:00Z' : '2024-09-30T13:50:02.118927331Z',
    last_ban_time: '0001-01-01T00:00:00Z',
  }))
  return JSON.stringify({ key: 'd3a1f6c0b2e4978a5c3e1f20', addrs }, null, '\t')
}

/** What a node started without its book writes within minutes: a fresh key and (almost) nothing else. */
const GHOST_BOOK = JSON.stringify({ key: '0f1e2d3c4b5a69788796a5b4', addrs: [] }, null, '\t')

let dir: TempDir
let home: string
let stashDir: string
let live: string
let stashFile: string
let manifestFile: string
let original: string

beforeEach(async () => {
  dir = await tempDir('ghostfleet-addrbook-')
  home = path.join(dir.path, 'home')
  stashDir = path.join(dir.path, 'state', 'addrbook-stash')
  await mkdir(path.join(home, 'config'), { recursive: true })
  await mkdir(path.join(home, 'data'))
  await writeFile(
    path.join(home, 'config', 'config.toml'),
    '[p2p]\naddr_book_file = "config/addrbook.json"\n',
  )
  live = path.join(home, 'config', 'addrbook.json')
  stashFile = path.join(stashDir, 'addrbook.json')
  manifestFile = path.join(stashDir, 'addrbook.stash.json')
  original = realBook(37)
  await writeFile(live, original)
})

afterEach(async () => {
  await dir.remove()
})

async function contentOf(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return undefined
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('addressBookSchema / readAddressBook', () => {
  it('reads a real-shaped book, with its sha256 and address count', async () => {
    const book = await readAddressBook(live)
    expect(book?.addrCount).toBe(37)
    expect(book?.book.key).toBe('d3a1f6c0b2e4978a5c3e1f20')
    expect(book?.book.addrs[1]?.addr).toEqual({ id: `01${'ab'.repeat(19)}`, ip: '65.108.1.17', port: 26656 })
    expect(book?.sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it('accepts addrs: null (a Go nil slice) and books from before last_ban_time existed', () => {
    expect(addressBookSchema.parse({ key: 'k', addrs: null }).addrs).toEqual([])
    const old = JSON.parse(realBook(1)) as { addrs: Array<Record<string, unknown>> }
    delete old.addrs[0]?.['last_ban_time']
    expect(addressBookSchema.safeParse(old).success).toBe(true)
  })

  it('returns undefined for a missing file and names the file of an invalid one', async () => {
    expect(await readAddressBook(path.join(home, 'nope.json'))).toBeUndefined()
    await writeFile(live, '{"key": "k", "addrs": [{"addr": {"id": "x", "ip": "1.2.3.4", "port": "26656"}}]}')
    const error = await rejection(readAddressBook(live))
    expect(error).toBeInstanceOf(AddressBookError)
    expect(error.message).toContain(live)
    expect(error.message).toMatch(/addrs\.0\.addr\.port/)
    await writeFile(live, '{"key": "k", "addrs": [')
    expect((await rejection(readAddressBook(live))).message).toMatch(/not valid JSON/)
  })
})

describe('stashAddressBook / restoreAddressBook', () => {
  it('stash copies the book, verifies it, records a manifest and only then removes the live book', async () => {
    const now = new Date('2025-01-02T03:04:05.000Z')
    const result = await stashAddressBook(home, stashDir, { now: () => now })
    expect(result.status).toBe('stashed')
    expect(result.removedLiveBook).toBe(true)
    expect(await contentOf(live)).toBeUndefined()
    expect(await contentOf(stashFile)).toBe(original)
    const manifest = JSON.parse((await contentOf(manifestFile)) ?? 'null') as Record<string, unknown>
    expect(manifest).toEqual({
      version: 1,
      phase: 'stashed',
      hadAddressBook: true,
      sha256: (await readAddressBook(stashFile))?.sha256,
      addrCount: 37,
      source: live,
      stashedAt: '2025-01-02T03:04:05.000Z',
    })
    expect(await readAddressBookStash(stashDir)).toEqual(manifest)
  })

  it('restore overwrites the near-empty book the ghost node wrote, then removes the stash', async () => {
    await stashAddressBook(home, stashDir)
    await writeFile(live, GHOST_BOOK)
    const result = await restoreAddressBook(home, stashDir)
    expect(result).toMatchObject({ status: 'restored', replacedLiveBook: true, addrCount: 37 })
    expect(await contentOf(live)).toBe(original)
    expect(await readdir(stashDir)).toEqual([])
    expect(await readAddressBookStash(stashDir)).toBeUndefined()
  })

  it('stash twice keeps the first stash and removes the ghost-written book', async () => {
    await stashAddressBook(home, stashDir)
    await writeFile(live, GHOST_BOOK)
    const second = await stashAddressBook(home, stashDir)
    expect(second.status).toBe('already-stashed')
    expect(second.removedLiveBook).toBe(true)
    expect(await contentOf(stashFile)).toBe(original)
    expect(await contentOf(live)).toBeUndefined()
    await restoreAddressBook(home, stashDir)
    expect(await contentOf(live)).toBe(original)
  })

  it('restore with no stash is a no-op with a clear status', async () => {
    const result = await restoreAddressBook(home, stashDir)
    expect(result).toEqual({
      status: 'no-stash',
      liveFile: live,
      stashFile,
      replacedLiveBook: false,
      addrCount: 0,
    })
    expect(await contentOf(live)).toBe(original)
  })

  it('restore twice is a no-op the second time', async () => {
    await stashAddressBook(home, stashDir)
    await restoreAddressBook(home, stashDir)
    expect((await restoreAddressBook(home, stashDir)).status).toBe('no-stash')
    expect(await contentOf(live)).toBe(original)
  })

  it('records a node without an address book, so restore neither invents one nor fails', async () => {
    await rm(live)
    const stash = await stashAddressBook(home, stashDir)
    expect(stash.status).toBe('no-address-book')
    expect(stash.manifest.hadAddressBook).toBe(false)
    expect(await contentOf(stashFile)).toBeUndefined()

    // The ghost node writes a book of its own; going back, the node had none, so none is kept.
    await writeFile(live, GHOST_BOOK)
    expect((await stashAddressBook(home, stashDir)).status).toBe('already-stashed')
    await writeFile(live, GHOST_BOOK)
    const restore = await restoreAddressBook(home, stashDir)
    expect(restore).toMatchObject({ status: 'restored-absent', replacedLiveBook: true })
    expect(await contentOf(live)).toBeUndefined()
    expect(await readdir(stashDir)).toEqual([])
  })

  it('restores a book that had none and no ghost book without creating anything', async () => {
    await rm(live)
    await stashAddressBook(home, stashDir)
    expect(await restoreAddressBook(home, stashDir)).toMatchObject({
      status: 'restored-absent',
      replacedLiveBook: false,
    })
    expect(await contentOf(live)).toBeUndefined()
  })

  it('uses addr_book_file from config.toml', async () => {
    await writeFile(
      path.join(home, 'config', 'config.toml'),
      '[p2p]\naddr_book_file = "config/book-custom.json"\n',
    )
    const custom = path.join(home, 'config', 'book-custom.json')
    await writeFile(custom, original)
    const result = await stashAddressBook(home, stashDir)
    expect(result.liveFile).toBe(custom)
    expect(await contentOf(custom)).toBeUndefined()
    expect(await contentOf(live)).toBe(original)
    await restoreAddressBook(home, stashDir)
    expect(await contentOf(custom)).toBe(original)
  })

  it('sweeps temporary files left by a crash in the middle of a write', async () => {
    await mkdir(stashDir, { recursive: true })
    const strayStash = path.join(stashDir, '.addrbook.json.ghostfleet-tmp-999-deadbeef')
    const strayLive = path.join(home, 'config', '.addrbook.json.ghostfleet-tmp-999-cafebabe')
    await writeFile(strayStash, '{"half": ')
    await writeFile(strayLive, '{"half": ')
    await stashAddressBook(home, stashDir)
    expect(await contentOf(strayStash)).toBeUndefined()
    expect(await contentOf(strayLive)).toBeUndefined()
  })
})

describe('stashAddressBook / restoreAddressBook refuse and change nothing', () => {
  it('when the live book is not an address book', async () => {
    await writeFile(live, '{"not": "a book"}')
    const error = await rejection(stashAddressBook(home, stashDir))
    expect(error).toBeInstanceOf(AddressBookError)
    expect(error.message).toContain(live)
    expect(await contentOf(live)).toBe('{"not": "a book"}')
    expect(await readdir(stashDir)).toEqual([])
  })

  it('when the stash no longer matches its manifest', async () => {
    await stashAddressBook(home, stashDir)
    await writeFile(live, GHOST_BOOK)
    const tampered = realBook(2)
    await writeFile(stashFile, tampered)
    const error = await rejection(restoreAddressBook(home, stashDir))
    expect(error).toBeInstanceOf(AddressBookError)
    expect(error.message).toMatch(/does not match its manifest/)
    expect(await contentOf(live)).toBe(GHOST_BOOK)
    expect(await contentOf(stashFile)).toBe(tampered)
    await expect(stashAddressBook(home, stashDir)).rejects.toThrow(/does not match its manifest/)
    expect(await contentOf(live)).toBe(GHOST_BOOK)
  })

  it('when the manifest records a stash that is gone', async () => {
    await stashAddressBook(home, stashDir)
    await rm(stashFile)
    await writeFile(live, GHOST_BOOK)
    await expect(restoreAddressBook(home, stashDir)).rejects.toThrow(/stash file is missing/)
    expect(await contentOf(live)).toBe(GHOST_BOOK)
    expect(await contentOf(manifestFile)).toBeDefined()
  })

  it('when the manifest is not valid', async () => {
    await stashAddressBook(home, stashDir)
    await writeFile(manifestFile, '{"version": 2}')
    await expect(restoreAddressBook(home, stashDir)).rejects.toThrow(AddressBookError)
    expect(await contentOf(stashFile)).toBe(original)
  })

  it('when the stash directory is the live book directory', async () => {
    await expect(stashAddressBook(home, path.join(home, 'config'))).rejects.toThrow(
      /must not be the directory/,
    )
    expect(await contentOf(live)).toBe(original)
  })
})

describe('crash safety: a SIGKILL between any two steps leaves the stash or the restored book', () => {
  class Crash extends Error {}
  const crashAt = (target: AddressBookStep) => (step: AddressBookStep) => {
    if (step === target) throw new Crash(`crash after ${step}`)
  }

  /** The invariant: the original book survives somewhere it will be found again. */
  async function originalSurvives(): Promise<void> {
    const inLive = (await contentOf(live)) === original
    const inStash = (await contentOf(stashFile)) === original
    expect(inLive || inStash).toBe(true)
  }

  async function expectStashed(): Promise<void> {
    expect(await contentOf(stashFile)).toBe(original)
    expect(await contentOf(live)).toBeUndefined()
    expect((await readAddressBookStash(stashDir))?.phase).toBe('stashed')
  }

  async function expectRestored(): Promise<void> {
    expect(await contentOf(live)).toBe(original)
    expect(await contentOf(stashFile)).toBeUndefined()
    expect(await readAddressBookStash(stashDir)).toBeUndefined()
  }

  /** After a crash the node may have run in ghost mode; if so it wrote its own book. */
  async function ghostNodeRuns(): Promise<void> {
    if ((await contentOf(live)) === undefined) await writeFile(live, GHOST_BOOK)
  }

  const stashSteps: AddressBookStep[] = ['stash-written', 'manifest-written', 'live-removed']
  const restoreSteps: AddressBookStep[] = [
    'live-written',
    'manifest-marked-restored',
    'stash-removed',
    'manifest-removed',
  ]

  for (const step of stashSteps) {
    for (const recovery of ['stash again', 'restore'] as const) {
      it(`stash crashes after ${step}; recovery: ${recovery}`, async () => {
        await expect(stashAddressBook(home, stashDir, { afterStep: crashAt(step) })).rejects.toThrow(Crash)
        await originalSurvives()
        await ghostNodeRuns()
        await originalSurvives()
        if (recovery === 'stash again') {
          await stashAddressBook(home, stashDir)
          await expectStashed()
        } else {
          await restoreAddressBook(home, stashDir)
          await expectRestored()
        }
      })
    }
  }

  for (const step of restoreSteps) {
    for (const recovery of ['restore again', 'stash (ghost again), then restore'] as const) {
      it(`restore crashes after ${step}; recovery: ${recovery}`, async () => {
        await stashAddressBook(home, stashDir)
        await writeFile(live, GHOST_BOOK)
        await expect(restoreAddressBook(home, stashDir, { afterStep: crashAt(step) })).rejects.toThrow(Crash)
        await originalSurvives()
        if (recovery === 'restore again') {
          await restoreAddressBook(home, stashDir)
          await expectRestored()
        } else {
          await stashAddressBook(home, stashDir)
          await expectStashed()
          await writeFile(live, GHOST_BOOK)
          await restoreAddressBook(home, stashDir)
          await expectRestored()
        }
      })
    }
  }

  it('a crash between restore and its cleanup never lets an outdated stash win over the live book', async () => {
    await stashAddressBook(home, stashDir)
    await expect(
      restoreAddressBook(home, stashDir, { afterStep: crashAt('manifest-marked-restored') }),
    ).rejects.toThrow(Crash)
    // Back in normal mode, the node learns new peers and rewrites its (restored, authoritative) book.
    const learned = realBook(52)
    await writeFile(live, learned)
    await stashAddressBook(home, stashDir)
    expect(await contentOf(stashFile)).toBe(learned)
    await restoreAddressBook(home, stashDir)
    expect(await contentOf(live)).toBe(learned)
  })

  it('an interrupted stash (copy written, no manifest) never wins over the live book the node kept using', async () => {
    await expect(stashAddressBook(home, stashDir, { afterStep: crashAt('stash-written') })).rejects.toThrow(
      Crash,
    )
    // The stash did not complete, so the node stayed in normal mode and kept updating its book.
    const learned = realBook(52)
    await writeFile(live, learned)
    expect((await restoreAddressBook(home, stashDir)).status).toBe('already-restored')
    expect(await contentOf(live)).toBe(learned)
    expect(await readdir(stashDir)).toEqual([])

    await expect(stashAddressBook(home, stashDir, { afterStep: crashAt('stash-written') })).rejects.toThrow(
      Crash,
    )
    const learnedLater = realBook(60)
    await writeFile(live, learnedLater)
    expect((await stashAddressBook(home, stashDir)).status).toBe('stashed')
    expect(await contentOf(stashFile)).toBe(learnedLater)
    expect(await contentOf(live)).toBeUndefined()
  })

  it('an interrupted stash whose live book then became unreadable finishes from the complete copy', async () => {
    await expect(stashAddressBook(home, stashDir, { afterStep: crashAt('stash-written') })).rejects.toThrow(
      Crash,
    )
    await writeFile(live, '{"truncated": ')
    expect((await stashAddressBook(home, stashDir)).status).toBe('stashed')
    expect(await contentOf(stashFile)).toBe(original)
    await restoreAddressBook(home, stashDir)
    expect(await contentOf(live)).toBe(original)
  })

  it('a crash while stashing a node without a book still restores to "no book"', async () => {
    await rm(live)
    await expect(
      stashAddressBook(home, stashDir, { afterStep: crashAt('manifest-written') }),
    ).rejects.toThrow(Crash)
    await writeFile(live, GHOST_BOOK)
    expect((await restoreAddressBook(home, stashDir)).status).toBe('restored-absent')
    expect(await contentOf(live)).toBeUndefined()
  })
})
