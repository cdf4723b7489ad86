import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { processLiveness } from '@ghostfleet/sidecar'
import {
  answeredHeight,
  eventually,
  freePort,
  type Json,
  nodeStatus,
  SIMNODE_CLI,
  startProcess,
  testConfig,
} from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { SimNet } from './helpers/simnet.js'

/*
 * The address book and the persisted mode across a ghost node that writes its own book and across a SIGKILL of
 * the sidecar: the restarted sidecar finds the node the dead one left running, stops it, resumes ghost mode
 * without a sync burst, and the stashed book (the only way this follower finds the producer) comes back intact
 * when the pool catches up.
 */

let net: SimNet | undefined
afterEach(async () => {
  await net?.cleanup()
  net = undefined
})

interface Book {
  key: string
  addrs: Array<{ addr: { id: string } }>
}

async function readBook(file: string): Promise<Book | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Book
  } catch {
    return null
  }
}

async function readState(configDir: string): Promise<Json> {
  return JSON.parse(await readFile(path.join(configDir, 'state.json'), 'utf8'))
}

const ORIGINAL_KEY = '0123456789abcdef01234567'

describe('sidecar end to end: address book and restarts', () => {
  it('stashes across a ghost node that writes its own book, survives a SIGKILL, and restores the book', async () => {
    net = await SimNet.create()
    const producer = await net.startProducer(100)
    const follower = await net.follower(producer)
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    const httpPort = await freePort()
    const configDir = net.path('sidecar')
    const liveBook = path.join(follower.home, 'config', 'addrbook.json')
    const stashedBook = path.join(configDir, 'addrbook-stash', 'addrbook.json')
    await net.writeConfig(
      configDir,
      testConfig({
        binary: await net.nodeBinary(),
        follower,
        kyveUrl: kyve.url,
        httpPort,
        pruningEnabled: false,
        // A short flush interval: in normal mode the node rewrites its book often, as a long-running node does.
        flags: '--log-level error --addrbook-flush-ms 200',
      }),
    )
    let sidecar = net.startSidecar(configDir, httpPort)

    // Ghost: the operator's book is stashed, the ghost node wrote a fresh, empty one with a new key.
    await eventually(async () => expect((await sidecar.status())['mode']).toBe('ghost'), {
      timeoutMs: 60_000,
      intervalMs: 200,
      description: 'ghost mode',
    })
    // The mode is persisted before the node is stopped and the book stashed (crash-safe order): wait for the stash.
    await eventually(async () => {
      const stash = await readBook(stashedBook)
      expect(stash?.key).toBe(ORIGINAL_KEY)
      expect(stash?.addrs.map((a) => a.addr.id)).toContain(producer.id)
    })
    await eventually(async () => {
      const ghostBook = await readBook(liveBook)
      expect(ghostBook).not.toBeNull()
      expect(ghostBook?.key).not.toBe(ORIGINAL_KEY)
      expect(ghostBook?.addrs).toEqual([])
    })

    // SIGKILL the sidecar alone: its ghost node keeps running, orphaned.
    const frozen = await answeredHeight(follower.rpcUrl)
    const orphanPid = (await readState(configDir))['nodePid'] as number
    expect(orphanPid).toBeGreaterThan(0)
    sidecar.killSidecarOnly()
    await sidecar.exited
    expect(await processLiveness(orphanPid)).toBe('alive')

    // The restarted sidecar stops the orphan cleanly and brings the node back as a ghost: no sync burst.
    sidecar = net.startSidecar(configDir, httpPort)
    await eventually(
      async () => {
        const status = await sidecar.status()
        expect(status['mode']).toBe('ghost')
        expect(status['node'].reachable).toBe(true)
        expect(status['node'].process.pid).not.toBe(orphanPid)
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'ghost mode resumed' },
    )
    expect(sidecar.logsMatching(/previous sidecar left running/)).toHaveLength(1)
    expect(await processLiveness(orphanPid)).not.toBe('alive')
    expect(sidecar.logs().filter((l) => l['msg'] === 'node started' && l['mode'] === 'normal')).toEqual([])
    const producerThen = await producer.height()
    await eventually(async () => expect(await producer.height()).toBeGreaterThan(producerThen + 20), {
      timeoutMs: 20_000,
    })
    expect((await nodeStatus(follower.rpcUrl))?.height).toBeLessThanOrEqual(frozen + 1)
    expect((await readBook(stashedBook))?.key).toBe(ORIGINAL_KEY)

    // The pool catches up: normal mode with the original book (the ghost's book did not win), and the node syncs
    // again — through that book alone, since it has no seeds and no persistent peers.
    // (Set far ahead of the node, so it stays normal: with a producer this close it would otherwise be 40
    // blocks ahead, and a ghost again, within seconds.)
    await kyve.setPool(1, { currentKey: String(frozen + 100_000) })
    await eventually(
      async () => {
        expect(sidecar.logsMatching(/^now in normal mode/).length).toBeGreaterThanOrEqual(1)
        expect((await nodeStatus(follower.rpcUrl))?.height ?? 0).toBeGreaterThan(frozen + 5)
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'normal mode, syncing' },
    )
    const restoredLog = sidecar.logsMatching(/^address book restored/)[0]
    expect(String(restoredLog?.['msg'])).toMatch(/replacing the one the ghost node wrote/)
    sidecar.signal('SIGTERM')
    expect(await sidecar.exited).toBe(0)
    // The node saved its book on stop (PEX on): still the original book, with the producer in it.
    const restored = await readBook(liveBook)
    expect(restored?.key).toBe(ORIGINAL_KEY)
    expect(restored?.addrs.map((a) => a.addr.id)).toContain(producer.id)
  }, 240_000)

  it('refuses to start while a process it did not launch holds the node databases, naming it', async () => {
    net = await SimNet.create()
    const producer = await net.startProducer(200)
    const follower = await net.follower(producer)
    const kyve = await net.startKyve({ pools: [{ id: 1, paused: true, currentKey: '5' }] })
    // The operator started the node by hand.
    const foreign = startProcess('node', [
      SIMNODE_CLI,
      'start',
      '--home',
      follower.home,
      '--log-level',
      'error',
    ])
    try {
      await eventually(async () => expect(await nodeStatus(follower.rpcUrl)).not.toBeNull(), {
        timeoutMs: 20_000,
      })
      const httpPort = await freePort()
      const configDir = net.path('sidecar')
      await net.writeConfig(
        configDir,
        testConfig({ binary: await net.nodeBinary(), follower, kyveUrl: kyve.url, httpPort }),
      )
      const sidecar = net.startSidecar(configDir, httpPort)
      expect(await sidecar.exited).toBe(1)
      expect(sidecar.output()).toMatch(/databases are in use/)
      expect(sidecar.output()).toContain(`pid ${foreign.pid}`)
      // The node's own lock helpers are not listed as separate culprits.
      expect(sidecar.output()).not.toMatch(/flock --nonblock/)
      // Nothing was touched: the hand-started node still runs.
      expect(foreign.hasExited()).toBe(false)
    } finally {
      await foreign.stop('SIGKILL')
    }
  }, 120_000)
})
