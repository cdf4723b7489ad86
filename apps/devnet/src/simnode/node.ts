import { readFile } from 'node:fs/promises'
import type http from 'node:http'
import { AddressBook } from './addrbook.js'
import { readAppToml } from './app-toml.js'
import { BlockSync } from './block-sync.js'
import { SimChain } from './chain.js'
import { readConfigToml } from './config-toml.js'
import { AddressError } from './errors.js'
import { readGenesis } from './genesis.js'
import { defaultLayout, type HomeLayout, layoutFromConfig } from './home.js'
import { closeServer, listen } from './http-util.js'
import { readNodeKey, readPrivValidatorKey } from './keys.js'
import { Logger } from './log.js'
import {
  formatListenAddress,
  formatNetAddress,
  type NetAddress,
  parseListenAddress,
  parsePeerAddress,
  splitAndTrimEmpty,
} from './net-address.js'
import { makeNodeInfo, type NodeInfo } from './node-info.js'
import { P2pClient } from './p2p-client.js'
import { createP2pServer } from './p2p-server.js'
import { Periodic } from './periodic.js'
import { Producer } from './producer.js'
import type { Json } from './rpc-encode.js'
import { createRpcServer } from './rpc-server.js'
import { type NodeSettings, resolveSettings, type StartFlags } from './start-options.js'
import { PeerSwitch } from './switch.js'

/** Where a running node writes its log lines. */
export interface NodeOutput {
  write(chunk: string): unknown
}

export interface SimNodeStartOptions {
  flags: StartFlags
  out: NodeOutput
  /** An error the node cannot recover from (a failed store write): the process should exit non-zero. */
  onFatal: (error: unknown) => void
}

async function parsePeers(list: string, what: string): Promise<NetAddress[]> {
  const out: NetAddress[] = []
  for (const entry of splitAndTrimEmpty(list)) {
    try {
      out.push(await parsePeerAddress(entry))
    } catch (error) {
      throw new AddressError(`${what}: ${(error as Error).message}`, { cause: error })
    }
  }
  return out
}

/**
 * A running simulated CometBFT node: RPC server, p2p listener and switch, address book, block sync or
 * block production, all over one {@link SimChain}. Start order and the address-book behaviour follow
 * CometBFT v0.37's `Node.OnStart`: RPC, p2p listener, switch (PEX reactor → address book loaded), then
 * `DialPeersAsync(persistent_peers)`, which adds the persistent peers to the book and writes the book file
 * at once — with PEX off the book was never loaded, so that write replaces the file with only them.
 */
export class SimNode {
  private readonly stopping: { promise?: Promise<void> } = {}
  private rpcPort = 0
  private p2pPort = 0

  private constructor(
    readonly settings: NodeSettings,
    readonly layout: HomeLayout,
    readonly log: Logger,
    readonly chain: SimChain,
    private readonly parts: {
      rpc: http.Server
      p2p: http.Server
      client: P2pClient
      sw: PeerSwitch
      book: AddressBook
      bookFlush: Periodic | undefined
      sync: BlockSync | undefined
      producer: Producer | undefined
      nodeInfo: NodeInfo
    },
  ) {}

  /** The node id (from node_key.json). */
  get id(): string {
    return this.parts.nodeInfo.id
  }

  get rpcListenPort(): number {
    return this.rpcPort
  }

  get p2pListenPort(): number {
    return this.p2pPort
  }

  static async start(opts: SimNodeStartOptions): Promise<SimNode> {
    const home = opts.flags.home
    const config = await readConfigToml(defaultLayout(home).configToml)
    const settings = resolveSettings(opts.flags, config)
    const layout = layoutFromConfig(home, config)
    const log = new Logger(opts.out, settings.logLevel, settings.logFormat)
    await readAppToml(layout.appToml)
    const genesis = await readGenesis(layout.genesis)
    const genesisDoc = JSON.parse(await readFile(layout.genesis, 'utf8')) as Json
    const nodeKey = await readNodeKey(layout.nodeKey)
    const privValidator = await readPrivValidatorKey(layout.privValidatorKey)
    const rpcLaddr = parseListenAddress(settings.rpcLaddr, 'rpc.laddr')
    const p2pLaddr = parseListenAddress(settings.p2pLaddr, 'p2p.laddr')
    const seeds = await parsePeers(settings.seeds, 'seed node configuration has error')
    const persistentPeers = await parsePeers(
      settings.persistentPeers,
      'could not add peers from persistent_peers field',
    )
    const privateIds = splitAndTrimEmpty(settings.privatePeerIds)

    log.info('Starting node', {
      node_id: nodeKey.nodeId,
      chain_id: genesis.chainId,
      moniker: settings.moniker,
      producer: settings.producer,
      home,
    })
    const chain = await SimChain.open(layout.dataDir, genesis, (reason) =>
      log.error('Cannot flock the databases; only the fcntl lock is held', { reason }),
    )
    const closers: (() => Promise<void>)[] = [() => chain.close()]
    const fail = async (error: unknown): Promise<never> => {
      for (const close of closers.reverse()) await close().catch(() => undefined)
      throw error
    }
    try {
      log.info('Loaded block store', { base: chain.base(), height: chain.height() })
      const client = new P2pClient()
      closers.push(async () => client.close())

      // Filled in once the p2p port is known; the RPC server only reads it per request.
      let nodeInfo = makeNodeInfo({
        id: nodeKey.nodeId,
        listenAddr: settings.p2pLaddr,
        network: genesis.chainId,
        moniker: settings.moniker,
        rpcAddress: settings.rpcLaddr,
        pex: settings.pex,
      })
      let sw: PeerSwitch | undefined
      let sync: BlockSync | undefined
      const rpc = createRpcServer({
        chain,
        nodeInfo: () => nodeInfo,
        // The RPC answers before the block sync below exists; a follower starts in blocksync (catching up), a
        // producer never catches up.
        catchingUp: () => sync?.catchingUp ?? !settings.producer,
        privValidator,
        peers: () => sw?.list() ?? [],
        genesisDoc,
        appName: 'simapp',
        appVersion: '0.47.0',
      })
      const rpcPort = await listen(rpc, rpcLaddr.host, rpcLaddr.port)
      closers.push(() => closeServer(rpc))
      log.info('Starting RPC HTTP server', { laddr: formatListenAddress({ ...rpcLaddr, port: rpcPort }) })

      const external = settings.externalAddress.trim()
      const advertised = external ? parseListenAddress(external, 'p2p.external-address') : p2pLaddr
      // The switch needs our address, which needs the bound port (port 0 picks one): listen first.
      const p2p = createP2pServer({ sw: () => sw, chain, log: log.with('p2p') })
      const p2pPort = await listen(p2p, p2pLaddr.host, p2pLaddr.port)
      closers.push(() => closeServer(p2p))
      const listenAddr = formatListenAddress({
        ...advertised,
        port: advertised === p2pLaddr ? p2pPort : advertised.port,
      })
      nodeInfo = makeNodeInfo({
        id: nodeKey.nodeId,
        listenAddr,
        network: genesis.chainId,
        moniker: settings.moniker,
        rpcAddress: formatListenAddress({ ...rpcLaddr, port: rpcPort }),
        pex: settings.pex,
      })
      log.info('P2P listening', {
        laddr: formatListenAddress({ ...p2pLaddr, port: p2pPort }),
        listen_addr: listenAddr,
      })
      const selfAddress: NetAddress = {
        id: nodeKey.nodeId,
        ip: advertised.host,
        port: advertised === p2pLaddr ? p2pPort : advertised.port,
      }

      // The PEX reactor starts the address book, which loads the file (a malformed file is fatal).
      let activeBook = AddressBook.fresh({
        strict: config.p2p.addr_book_strict,
        privateIds,
        ourAddresses: [selfAddress],
      })
      if (settings.pex) {
        const loaded = await AddressBook.load(layout.addrBook, {
          strict: config.p2p.addr_book_strict,
          privateIds,
          ourAddresses: [selfAddress],
        })
        activeBook = loaded.book
        log.info(loaded.loaded ? 'Loaded address book' : 'No address book, starting with an empty one', {
          file: layout.addrBook,
          size: activeBook.size,
        })
      }

      sw = new PeerSwitch({
        key: nodeKey,
        nodeInfo,
        selfAddress,
        seeds,
        persistentPeers,
        pex: settings.pex,
        seedMode: settings.seedMode,
        maxInbound: config.p2p.max_num_inbound_peers,
        maxOutbound: config.p2p.max_num_outbound_peers,
        allowDuplicateIp: config.p2p.allow_duplicate_ip,
        dialTimeoutMs: config.p2p.dial_timeout,
        handshakeTimeoutMs: config.p2p.handshake_timeout,
        book: activeBook,
        client,
        log: log.with('p2p'),
        onPeerStatus: () => sync?.wake(),
      })
      sw.start()
      const switchRef = sw
      closers.push(() => switchRef.stop())

      // DialPeersAsync: persistent peers go into the book, which is written right away (even when empty).
      for (const peer of persistentPeers) {
        const added = activeBook.addAddress(peer, selfAddress)
        if (!added.added && added.reason)
          log.debug("Won't add peer's address to addrbook", {
            peer: formatNetAddress(peer),
            reason: added.reason,
          })
      }
      await activeBook.save(layout.addrBook)
      log.info('Saved address book', { file: layout.addrBook, size: activeBook.size })

      let bookFlush: Periodic | undefined
      if (settings.pex) {
        bookFlush = new Periodic(
          settings.addrbookFlushMs,
          async () => {
            await activeBook.save(layout.addrBook)
            log.info('Saving AddrBook to file', { size: activeBook.size })
          },
          (error) =>
            log.error('Failed to save AddrBook to file', {
              file: layout.addrBook,
              err: (error as Error).message,
            }),
        )
        bookFlush.start(settings.addrbookFlushMs)
        const flushRef = bookFlush
        closers.push(() => flushRef.stop())
      }

      let producer: Producer | undefined
      if (settings.producer) {
        producer = new Producer({
          store: chain.store,
          genesis: chain.genesis,
          blockTimeMs: settings.blockTimeMs,
          txCount: settings.blockTxs,
          txSize: settings.txSize,
          partSize: settings.partSize,
          valsetInterval: settings.valsetInterval,
          log: log.with('consensus'),
          onError: opts.onFatal,
        })
        await producer.start()
        const producerRef = producer
        closers.push(() => producerRef.stop())
      } else {
        sync = new BlockSync({
          chain,
          sw,
          log: log.with('blocksync'),
          startInConsensus: false,
          syncRate: settings.syncRate,
          requestTimeoutMs: config.p2p.handshake_timeout,
          onError: opts.onFatal,
        })
        sync.start()
      }

      const node = new SimNode(settings, layout, log, chain, {
        rpc,
        p2p,
        client,
        sw,
        book: activeBook,
        bookFlush,
        sync,
        producer,
        nodeInfo,
      })
      node.rpcPort = rpcPort
      node.p2pPort = p2pPort
      log.info('Node started', {
        rpc_port: rpcPort,
        p2p_port: p2pPort,
        pex: settings.pex,
        seeds: seeds.length,
        persistent_peers: persistentPeers.length,
      })
      return node
    } catch (error) {
      return await fail(error)
    }
  }

  /**
   * Clean shutdown: stop producing and syncing, leave the peers, write the address book (only when the PEX
   * reactor ran: it is the book's owner), close the listeners and then the databases (releasing the LOCKs).
   */
  stop(): Promise<void> {
    this.stopping.promise ??= (async () => {
      const { rpc, p2p, client, sw, book, bookFlush, sync, producer } = this.parts
      this.log.info('Stopping node')
      await producer?.stop()
      await sync?.stop()
      await sw.stop()
      if (bookFlush) {
        await bookFlush.stop()
        await book.save(this.layout.addrBook)
        this.log.info('Saving AddrBook to file', { size: book.size })
      }
      await closeServer(p2p)
      await closeServer(rpc)
      client.close()
      await this.chain.close()
      this.log.info('Stopped', { height: this.chain.height() })
    })()
    return this.stopping.promise
  }
}
