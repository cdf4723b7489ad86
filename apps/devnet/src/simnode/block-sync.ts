import { StoreCorruptionError } from '@ghostfleet/cometbft'
import { rawBlockFromWire, type SimChain } from './chain.js'
import { ChainStoreError, PeerProtocolError } from './errors.js'
import type { Logger } from './log.js'
import { formatNetAddress } from './net-address.js'
import { type BlocksResponse, blocksResponseSchema, MAX_BLOCKS_PER_REQUEST } from './p2p-protocol.js'
import { Periodic } from './periodic.js'
import type { Peer, PeerSwitch } from './switch.js'

export interface BlockSyncOptions {
  chain: SimChain
  sw: PeerSwitch
  log: Logger
  /** Start in consensus mode (the node is the chain's producer: CometBFT skips blocksync for a sole validator). */
  startInConsensus: boolean
  /** Cap on blocks per second (undefined: as fast as peers answer). */
  syncRate?: number
  requestTimeoutMs: number
  onError: (error: unknown) => void
}

// blocksync/reactor.go: switchToConsensusIntervalSeconds.
const SWITCH_CHECK_MS = 1000

/**
 * CometBFT v0.37's blocksync reactor and the block catch-up a synced node does afterwards, over the simulated
 * p2p protocol: fetch bounded ranges from a peer that is ahead and append byte-identical copies.
 *
 * `catching_up` (consensus reactor's WaitSync) is true from start until the pool is caught up — at least one
 * peer, and our next height ≥ the highest peer height − 1 (`BlockPool.IsCaughtUp`) — and false from then on,
 * even if peers later pull ahead: v0.37 never returns to blocksync. So a node that can reach no peer (ghost
 * mode) reports `catching_up: true`, as a real one does.
 */
export class BlockSync {
  private readonly loop: Periodic
  private mode: 'blocksync' | 'consensus'
  private lastSwitchCheckMs = 0
  private tokens: number
  private lastRefillMs = Date.now()

  constructor(private readonly o: BlockSyncOptions) {
    this.mode = o.startInConsensus ? 'consensus' : 'blocksync'
    this.tokens = o.syncRate ?? 0
    this.loop = new Periodic(100, () => this.tick(), o.onError)
  }

  get catchingUp(): boolean {
    return this.mode === 'blocksync'
  }

  start(): void {
    this.lastSwitchCheckMs = Date.now()
    this.loop.start()
  }

  /** New information (a peer's status): look for work now instead of at the next tick. */
  wake(): void {
    this.loop.kick()
  }

  stop(): Promise<void> {
    return this.loop.stop()
  }

  private maxPeerHeight(peers: Peer[]): number {
    return peers.reduce((m, p) => Math.max(m, p.height), 0)
  }

  private checkSwitch(peers: Peer[]): void {
    if (this.mode !== 'blocksync' || Date.now() - this.lastSwitchCheckMs < SWITCH_CHECK_MS) return
    this.lastSwitchCheckMs = Date.now()
    const known = peers.filter((p) => p.statusKnown)
    if (known.length === 0) return
    const maxPeerHeight = this.maxPeerHeight(known)
    const poolHeight = this.o.chain.nextHeight()
    if (maxPeerHeight === 0 || poolHeight >= maxPeerHeight - 1) {
      this.mode = 'consensus'
      this.o.log.info('Time to switch to consensus reactor!', { height: this.o.chain.height() })
    }
  }

  private allowance(): number {
    const rate = this.o.syncRate
    if (rate === undefined) return MAX_BLOCKS_PER_REQUEST
    const now = Date.now()
    this.tokens = Math.min(Math.max(rate, 1), this.tokens + ((now - this.lastRefillMs) / 1000) * rate)
    this.lastRefillMs = now
    return Math.floor(this.tokens)
  }

  private async tick(): Promise<void> {
    const peers = this.o.sw.list()
    this.checkSwitch(peers)
    const next = this.o.chain.nextHeight()
    const ahead = peers.filter((p) => p.statusKnown && p.height >= next && p.base <= next)
    if (ahead.length === 0) return
    const allowance = this.allowance()
    if (allowance < 1) return
    // Prefer the highest peer; among equals, spread the load.
    const best = this.maxPeerHeight(ahead)
    const candidates = ahead.filter((p) => p.height === best)
    const peer = candidates[Math.floor(Math.random() * candidates.length)]!
    const count = Math.min(MAX_BLOCKS_PER_REQUEST, peer.height - next + 1, allowance)
    const fetched = await this.fetch(peer, next, count)
    if (fetched > 0) {
      if (this.o.syncRate !== undefined) this.tokens -= fetched
      if (this.o.chain.nextHeight() <= best) this.loop.kick()
    }
  }

  private async fetch(peer: Peer, from: number, count: number): Promise<number> {
    let answer: BlocksResponse
    try {
      answer = await this.o.sw.getFromPeer(
        peer,
        `/p2p/blocks?from=${from}&count=${count}`,
        blocksResponseSchema,
        this.o.requestTimeoutMs,
      )
    } catch (error) {
      this.o.sw.removePeer(peer.id, `block request failed: ${(error as Error).message}`)
      return 0
    }
    this.o.sw.updateStatus(peer.id, Number(answer.base), Number(answer.height))
    const blocks = answer.blocks.map(rawBlockFromWire)
    if (blocks.length === 0) return 0
    if (blocks[0]!.height !== from || blocks.some((b, i) => b.height !== from + i)) {
      this.o.sw.removePeer(peer.id, `sent blocks ${blocks[0]!.height}… for a request from ${from}`)
      return 0
    }
    try {
      await this.o.chain.appendRaw(blocks)
    } catch (error) {
      if (error instanceof StoreCorruptionError) throw error
      if (error instanceof ChainStoreError || error instanceof PeerProtocolError) {
        // CometBFT: StopPeerForError on a block that does not verify.
        this.o.log.error('Peer sent us invalid blocks', {
          peer: formatNetAddress(peer.addr),
          err: error.message,
        })
        this.o.sw.removePeer(peer.id, error.message)
        return 0
      }
      throw error
    }
    const last = blocks[blocks.length - 1]!.height
    this.o.log.info('Synced blocks', {
      from,
      to: last,
      peer: peer.id,
      peer_height: answer.height,
      mode: this.mode,
    })
    return blocks.length
  }
}
