import { randomBytes } from 'node:crypto'
import type { AddressBook } from './addrbook.js'
import { HandshakeError } from './errors.js'
import { type Ed25519Key, nodeIdOf, verifyEd25519 } from './keys.js'
import type { Logger } from './log.js'
import { formatNetAddress, type NetAddress, parseListenAddress } from './net-address.js'
import type { NodeInfo } from './node-info.js'
import { type P2pClient, PeerRejectedError, type PeerRequest } from './p2p-client.js'
import {
  type AddrsResponse,
  acceptProof,
  addrsResponseSchema,
  dialProof,
  type HandshakeRequest,
  type HandshakeResponse,
  handshakeResponseSchema,
  okSchema,
  PEER_HEADER,
  statusSchema,
} from './p2p-protocol.js'
import { Periodic } from './periodic.js'

/** A connected peer. Requests to it go to `addr` (the dialed address, or the inbound peer's advertised port). */
export interface Peer {
  id: string
  nodeInfo: NodeInfo
  addr: NetAddress
  outbound: boolean
  persistent: boolean
  connectedAtMs: number
  base: number
  height: number
  /** False until the first status answer. */
  statusKnown: boolean
}

export interface SwitchOptions {
  key: Ed25519Key
  /** Our node info as sent in handshakes. */
  nodeInfo: NodeInfo
  /** Our own dialable address (never added to the book; the `src` of persistent peers we add). */
  selfAddress: NetAddress
  seeds: NetAddress[]
  persistentPeers: NetAddress[]
  pex: boolean
  seedMode: boolean
  maxInbound: number
  maxOutbound: number
  allowDuplicateIp: boolean
  dialTimeoutMs: number
  handshakeTimeoutMs: number
  book: AddressBook
  client: P2pClient
  log: Logger
  /** How often to look for peers to dial (CometBFT: ensurePeersPeriod, 30 s; kept short for a simulation). */
  ensurePeersMs?: number
  /** How often to ask each peer for its status (also the liveness check of the "connection"). */
  statusIntervalMs?: number
  /** Called after a peer's status changed (new peer, new height). */
  onPeerStatus?: (peer: Peer) => void
}

/** The peer is not who we dialed (CometBFT's ErrSwitchAuthenticationFailure): its address leaves the book. */
export class AuthenticationError extends HandshakeError {}

/** Refusal of an inbound handshake: HTTP status plus the reason CometBFT would log. */
export class HandshakeRefusal extends HandshakeError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

// p2p/pex/pex_reactor.go: after this many failed dials a non-persistent address is dropped from the book.
const MAX_ATTEMPTS_TO_DIAL = 16
// CometBFT's needAddressThreshold: below this many known addresses the PEX reactor asks for more.
const NEED_ADDRESS_THRESHOLD = 1000

/**
 * The p2p switch with its PEX reactor: dials persistent peers always, and — only when PEX runs — address-book
 * entries and seeds; answers handshakes; keeps the peer set alive by polling statuses. Mirrors CometBFT v0.37's
 * rules that matter for ghost mode: with PEX off neither seeds nor the address book are dialed; a node that
 * knows no address and has no persistent peer stays alone, though others may still dial it.
 */
export class PeerSwitch {
  private readonly peers = new Map<string, Peer>()
  private readonly dialing = new Set<string>()
  private readonly attempts = new Map<string, { n: number; lastMs: number }>()
  private readonly pexRequested = new Set<string>()
  private readonly persistentIds: Set<string>
  private readonly ensure: Periodic
  private readonly statusPoll: Periodic
  private lastPexRequestMs = 0
  private lastSeedDialMs = 0
  private stopped = false

  constructor(private readonly o: SwitchOptions) {
    this.persistentIds = new Set(o.persistentPeers.map((p) => p.id))
    const onError = (error: unknown) => o.log.error('p2p routine failed', { err: (error as Error).message })
    this.ensure = new Periodic(o.ensurePeersMs ?? 1000, () => this.ensurePeers(), onError)
    this.statusPoll = new Periodic(o.statusIntervalMs ?? 250, () => this.pollStatuses(), onError)
  }

  get id(): string {
    return this.o.key.nodeId
  }

  start(): void {
    this.ensure.start()
    this.statusPoll.start()
  }

  /** Stops dialing and polling and tells every peer we are going (the TCP close of a real node). */
  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all([this.ensure.stop(), this.statusPoll.stop()])
    await Promise.allSettled(
      [...this.peers.values()].map((p) =>
        this.o.client.request({
          method: 'POST',
          ip: p.addr.ip,
          port: p.addr.port,
          path: '/p2p/disconnect',
          body: {},
          headers: { [PEER_HEADER]: this.id },
          timeoutMs: 500,
          schema: okSchema,
        }),
      ),
    )
    this.peers.clear()
  }

  list(): Peer[] {
    return [...this.peers.values()]
  }

  get(id: string): Peer | undefined {
    return this.peers.get(id)
  }

  isPeer(id: string): boolean {
    return this.peers.has(id)
  }

  /** Drops a peer (error, refusal, disconnect). Persistent peers are redialed by the ensure routine. */
  removePeer(id: string, reason: string): void {
    const peer = this.peers.get(id)
    if (!peer) return
    this.peers.delete(id)
    this.pexRequested.delete(id)
    this.o.log.info('Stopping peer', { peer: formatNetAddress(peer.addr), reason })
  }

  /** Records a status answer (from a poll or from a blocks answer). */
  updateStatus(id: string, base: number, height: number): void {
    const peer = this.peers.get(id)
    if (!peer) return
    const changed = !peer.statusKnown || peer.height !== height || peer.base !== base
    peer.base = base
    peer.height = height
    peer.statusKnown = true
    if (changed) this.o.onPeerStatus?.(peer)
  }

  private requestHeaders(): Record<string, string> {
    return { [PEER_HEADER]: this.id }
  }

  /** A GET to a connected peer's p2p listener, sent as this node (its peer header). */
  getFromPeer<T>(
    peer: Peer,
    path: string,
    schema: PeerRequest<T>['schema'],
    timeoutMs: number = this.o.handshakeTimeoutMs,
  ): Promise<T> {
    return this.o.client.request({
      method: 'GET',
      ip: peer.addr.ip,
      port: peer.addr.port,
      path,
      headers: this.requestHeaders(),
      timeoutMs,
      schema,
    })
  }

  // --- outbound ------------------------------------------------------------------------------------------------

  private backoffMs(id: string, persistent: boolean): number {
    const a = this.attempts.get(id)
    if (!a || a.n === 0) return 0
    const wait = Math.min(1000 * 2 ** (a.n - 1), persistent ? 5_000 : 30_000)
    return Math.max(0, a.lastMs + wait - Date.now())
  }

  private noteFailure(id: string): number {
    const a = this.attempts.get(id) ?? { n: 0, lastMs: 0 }
    a.n += 1
    a.lastMs = Date.now()
    this.attempts.set(id, a)
    return a.n
  }

  /** Dials `addr` and runs the handshake. Resolves true when it became a peer. */
  async dial(addr: NetAddress, opts: { persistent: boolean }): Promise<boolean> {
    if (this.stopped || addr.id === this.id || this.peers.has(addr.id) || this.dialing.has(addr.id))
      return false
    this.dialing.add(addr.id)
    const where = formatNetAddress(addr)
    try {
      const nonce = randomBytes(32).toString('hex')
      const request: HandshakeRequest = {
        node_info: this.o.nodeInfo,
        pub_key: this.o.key.publicKey.toString('base64'),
        nonce,
        signature: this.o.key.sign(dialProof(addr.id, nonce)).toString('base64'),
      }
      const answer = await this.o.client.request({
        method: 'POST',
        ip: addr.ip,
        port: addr.port,
        path: '/p2p/handshake',
        body: request,
        timeoutMs: this.o.dialTimeoutMs + this.o.handshakeTimeoutMs,
        schema: handshakeResponseSchema,
      })
      this.checkAnswer(addr, nonce, answer)
      if (this.stopped) return false
      this.checkDuplicateIp(addr.ip)
      this.attempts.delete(addr.id)
      this.addPeer({
        id: addr.id,
        nodeInfo: answer.node_info,
        addr,
        outbound: true,
        persistent: opts.persistent || this.persistentIds.has(addr.id),
        connectedAtMs: Date.now(),
        base: 0,
        height: 0,
        statusKnown: false,
      })
      this.o.book.markGood(addr.id)
      return true
    } catch (error) {
      const message = (error as Error).message
      if (error instanceof AuthenticationError) {
        // markAddrInBookBasedOnErr: an authentication failure removes the address from the book.
        this.o.book.remove(addr.id)
      } else {
        this.o.book.markAttempt(addr.id)
      }
      const n = this.noteFailure(addr.id)
      if (!opts.persistent && !this.persistentIds.has(addr.id) && n > MAX_ATTEMPTS_TO_DIAL) {
        this.o.book.remove(addr.id)
        this.attempts.delete(addr.id)
      }
      this.o.log.info('Error dialing peer', { addr: where, err: message, attempts: n })
      return false
    } finally {
      this.dialing.delete(addr.id)
    }
  }

  private checkAnswer(addr: NetAddress, nonce: string, answer: HandshakeResponse): void {
    const pubKey = Buffer.from(answer.pub_key, 'base64')
    const gotId = nodeIdOf(pubKey)
    if (gotId !== addr.id) {
      throw new HandshakeError(
        `failed to authenticate peer. Dialed ${addr.id}, but got peer with ID ${gotId}`,
      )
    }
    if (answer.node_info.id !== gotId) {
      throw new AuthenticationError(
        `failed to authenticate peer: node info id ${answer.node_info.id} is not its key's ${gotId}`,
      )
    }
    if (!verifyEd25519(pubKey, acceptProof(this.id, nonce), Buffer.from(answer.signature, 'base64'))) {
      throw new AuthenticationError(`failed to authenticate peer ${gotId}: bad handshake signature`)
    }
    if (answer.node_info.network !== this.o.nodeInfo.network) {
      throw new HandshakeError(
        `peer is on a different network. Got "${answer.node_info.network}", expected "${this.o.nodeInfo.network}"`,
      )
    }
  }

  private checkDuplicateIp(ip: string): void {
    if (this.o.allowDuplicateIp) return
    for (const p of this.peers.values()) {
      if (p.addr.ip === ip)
        throw new HandshakeRefusal(409, `duplicate peer IP ${ip} (allow_duplicate_ip = false)`)
    }
  }

  private addPeer(peer: Peer): void {
    const old = this.peers.get(peer.id)
    if (old) this.o.log.info('Replacing stale connection to peer', { peer: formatNetAddress(old.addr) })
    this.peers.set(peer.id, peer)
    this.o.log.info('Added peer', {
      peer: formatNetAddress(peer.addr),
      direction: peer.outbound ? 'outbound' : 'inbound',
      persistent: peer.persistent,
    })
    this.statusPoll.kick()
    // PEX AddPeer: ask a new outbound peer for addresses while the book needs more.
    if (peer.outbound && this.o.pex && this.o.book.size < NEED_ADDRESS_THRESHOLD) void this.requestAddrs(peer)
  }

  // --- inbound -------------------------------------------------------------------------------------------------

  /** Answers `POST /p2p/handshake`. Throws {@link HandshakeRefusal} with the HTTP status to answer. */
  acceptHandshake(req: HandshakeRequest, remoteIp: string): HandshakeResponse {
    if (this.stopped) throw new HandshakeRefusal(503, 'node is stopping')
    const pubKey = Buffer.from(req.pub_key, 'base64')
    const id = nodeIdOf(pubKey)
    if (req.node_info.id !== id) {
      throw new HandshakeRefusal(
        403,
        `failed to authenticate peer: node info id ${req.node_info.id} is not its key's ${id}`,
      )
    }
    if (!verifyEd25519(pubKey, dialProof(this.id, req.nonce), Buffer.from(req.signature, 'base64'))) {
      throw new HandshakeRefusal(
        403,
        `failed to authenticate peer ${id}: bad handshake signature (dialed the wrong id?)`,
      )
    }
    if (id === this.id) throw new HandshakeRefusal(403, 'connect to self')
    if (req.node_info.network !== this.o.nodeInfo.network) {
      throw new HandshakeRefusal(
        403,
        `peer is on a different network. Got "${req.node_info.network}", expected "${this.o.nodeInfo.network}"`,
      )
    }
    const inbound = [...this.peers.values()].filter((p) => !p.outbound && p.id !== id).length
    if (inbound >= this.o.maxInbound) throw new HandshakeRefusal(503, 'max inbound peers reached')
    const existing = this.peers.get(id)
    if (!existing || existing.addr.ip !== remoteIp) this.checkDuplicateIp(remoteIp)
    const addr = this.inboundAddress(id, req.node_info, remoteIp)
    this.addPeer({
      id,
      nodeInfo: req.node_info,
      addr,
      outbound: false,
      persistent: this.persistentIds.has(id),
      connectedAtMs: Date.now(),
      base: 0,
      height: 0,
      statusKnown: false,
    })
    // PEX AddPeer: an inbound peer is its own source.
    if (this.o.pex) this.o.book.addAddress(addr, addr)
    return {
      node_info: this.o.nodeInfo,
      pub_key: this.o.key.publicKey.toString('base64'),
      signature: this.o.key.sign(acceptProof(id, req.nonce)).toString('base64'),
    }
  }

  /**
   * Where an inbound peer can be reached: the host of its advertised listen address, or — when that is a
   * wildcard such as 0.0.0.0 — the address its connection came from.
   */
  private inboundAddress(id: string, info: NodeInfo, remoteIp: string): NetAddress {
    try {
      const listen = parseListenAddress(info.listen_addr, 'listen_addr')
      const wildcard = listen.host === '0.0.0.0' || listen.host === '::' || listen.host === ''
      return { id, ip: wildcard ? remoteIp : listen.host, port: listen.port }
    } catch {
      throw new HandshakeRefusal(400, `invalid listen_addr ${JSON.stringify(info.listen_addr)}`)
    }
  }

  /** Answers `GET /p2p/addrs` from `peerId`; undefined when PEX is off (no PEX channel). */
  answerPex(peerId: string): AddrsResponse | undefined {
    if (!this.o.pex) return undefined
    const peer = this.peers.get(peerId)
    const addrs = this.o.book.selection().filter((a) => a.id !== peerId)
    // A seed answers an inbound peer once, then disconnects it.
    if (this.o.seedMode && peer && !peer.outbound) this.removePeer(peerId, 'seed mode: addresses sent')
    return { addrs }
  }

  // --- routines ------------------------------------------------------------------------------------------------

  private async requestAddrs(peer: Peer): Promise<void> {
    if (this.pexRequested.has(peer.id)) return
    this.pexRequested.add(peer.id)
    this.lastPexRequestMs = Date.now()
    try {
      const answer = await this.getFromPeer(peer, '/p2p/addrs', addrsResponseSchema)
      let added = 0
      for (const a of answer.addrs) if (this.o.book.addAddress(a, peer.addr).added) added++
      this.o.log.info('Received addresses', {
        peer: formatNetAddress(peer.addr),
        count: answer.addrs.length,
        added,
      })
      // ReceiveAddrs: addresses from a seed are dialed without waiting for the next round.
      if (this.o.seeds.some((s) => s.id === peer.id)) this.ensure.kick()
    } catch (error) {
      // A peer without PEX has no channel for it: nothing to learn from it.
      if (!(error instanceof PeerRejectedError && error.status === 404)) {
        this.o.log.debug('PEX request failed', {
          peer: formatNetAddress(peer.addr),
          err: (error as Error).message,
        })
      }
    } finally {
      this.pexRequested.delete(peer.id)
    }
  }

  /** One round of CometBFT's `ensurePeers` (PEX on) plus the persistent-peer reconnect routine. */
  private async ensurePeers(): Promise<void> {
    const dials: Promise<boolean>[] = []
    for (const addr of this.o.persistentPeers) {
      if (!this.peers.has(addr.id) && !this.dialing.has(addr.id) && this.backoffMs(addr.id, true) === 0) {
        dials.push(this.dial(addr, { persistent: true }))
      }
    }
    if (this.o.pex) {
      const out = [...this.peers.values()].filter((p) => p.outbound).length
      const numToDial = this.o.maxOutbound - (out + this.dialing.size)
      const toDial: NetAddress[] = []
      if (numToDial > 0) {
        for (const addr of this.o.book.dialCandidates()) {
          if (toDial.length >= numToDial) break
          if (addr.id === this.id || this.peers.has(addr.id) || this.dialing.has(addr.id)) continue
          if (this.backoffMs(addr.id, false) > 0) continue
          toDial.push(addr)
        }
      }
      for (const addr of toDial) dials.push(this.dial(addr, { persistent: false }))
      if (this.o.book.size < NEED_ADDRESS_THRESHOLD) {
        const peers = [...this.peers.values()]
        if (peers.length > 0 && Date.now() - this.lastPexRequestMs >= 10_000) {
          void this.requestAddrs(peers[Math.floor(Math.random() * peers.length)]!)
        }
        // CometBFT falls back to the seeds whenever there is nothing to dial, once per 30 s round; with our
        // shorter rounds, seeds are dialed at once when we have no peer and otherwise at most every 30 s.
        const seedsDue = this.peers.size === 0 || Date.now() - this.lastSeedDialMs >= 30_000
        if (toDial.length === 0 && this.o.seeds.length > 0 && seedsDue) {
          this.lastSeedDialMs = Date.now()
          dials.push(this.dialSeeds())
        }
      }
    }
    await Promise.all(dials)
  }

  /** Dials seeds in random order until one connects. */
  private async dialSeeds(): Promise<boolean> {
    const order = [...this.o.seeds].sort(() => Math.random() - 0.5)
    for (const seed of order) {
      if (this.peers.has(seed.id)) return true
      if (this.backoffMs(seed.id, true) > 0) continue
      if (await this.dial(seed, { persistent: false })) return true
    }
    return false
  }

  private async pollStatuses(): Promise<void> {
    await Promise.all(
      [...this.peers.values()].map(async (peer) => {
        try {
          const s = await this.getFromPeer(peer, '/p2p/status', statusSchema)
          if (this.peers.get(peer.id) === peer) this.updateStatus(peer.id, Number(s.base), Number(s.height))
        } catch (error) {
          if (this.peers.get(peer.id) === peer) this.removePeer(peer.id, (error as Error).message)
        }
      }),
    )
  }
}
