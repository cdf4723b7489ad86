import http from 'node:http'
import { rawBlockToWire, type SimChain } from './chain.js'
import { readBody, remoteIp, sendJson } from './http-util.js'
import type { Logger } from './log.js'
import {
  type BlocksResponse,
  handshakeRequestSchema,
  MAX_BLOCKS_PER_REQUEST,
  PEER_HEADER,
} from './p2p-protocol.js'
import { HandshakeRefusal, type PeerSwitch } from './switch.js'

/**
 * The HTTP server behind `[p2p] laddr`; see p2p-protocol.ts for the routes. It listens before the switch
 * exists (the switch needs the bound port), so requests arriving in between are refused as "starting".
 */
export function createP2pServer(opts: {
  sw: () => PeerSwitch | undefined
  chain: SimChain
  log: Logger
}): http.Server {
  const { chain, log } = opts
  const server = http.createServer((req, res) => {
    const sw = opts.sw()
    if (!sw) {
      sendJson(res, 503, { error: 'node is starting' })
      return
    }
    handle(sw, req, res).catch((error: unknown) => {
      log.error('p2p request failed', { path: req.url, err: (error as Error).message })
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message })
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 30_000

  const peerOf = (
    sw: PeerSwitch,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): string | undefined => {
    const id = req.headers[PEER_HEADER]
    if (typeof id === 'string' && sw.isPeer(id)) return id
    sendJson(res, 403, { error: `not a connected peer (${String(id)}): handshake first` })
    return undefined
  }

  async function handle(sw: PeerSwitch, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://p2p')
    const route = `${req.method} ${url.pathname}`
    switch (route) {
      case 'POST /p2p/handshake': {
        let body: unknown
        try {
          body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'))
        } catch (error) {
          sendJson(res, 400, { error: `bad handshake: ${(error as Error).message}` })
          return
        }
        const parsed = handshakeRequestSchema.safeParse(body)
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          sendJson(res, 400, { error: `bad handshake: ${issue?.path.join('.')}: ${issue?.message}` })
          return
        }
        try {
          sendJson(res, 200, sw.acceptHandshake(parsed.data, remoteIp(req)))
        } catch (error) {
          if (!(error instanceof HandshakeRefusal)) throw error
          log.info('Rejected inbound peer', {
            from: remoteIp(req),
            id: parsed.data.node_info.id,
            reason: error.message,
          })
          sendJson(res, error.status, { error: error.message })
        }
        return
      }
      case 'GET /p2p/status': {
        if (!peerOf(sw, req, res)) return
        sendJson(res, 200, { base: String(chain.base()), height: String(chain.height()) })
        return
      }
      case 'GET /p2p/blocks': {
        if (!peerOf(sw, req, res)) return
        const from = Number(url.searchParams.get('from'))
        const count = Number(url.searchParams.get('count') ?? MAX_BLOCKS_PER_REQUEST)
        if (!Number.isSafeInteger(from) || from < 1 || !Number.isSafeInteger(count) || count < 1) {
          sendJson(res, 400, { error: 'from and count must be positive integers' })
          return
        }
        const blocks = await chain.loadRawRange(from, count)
        const answer: BlocksResponse = {
          base: String(chain.base()),
          height: String(chain.height()),
          blocks: blocks.map(rawBlockToWire),
        }
        sendJson(res, 200, answer)
        return
      }
      case 'GET /p2p/addrs': {
        const id = peerOf(sw, req, res)
        if (!id) return
        const answer = sw.answerPex(id)
        if (!answer) sendJson(res, 404, { error: 'PEX reactor is disabled on this node' })
        else sendJson(res, 200, answer)
        return
      }
      case 'POST /p2p/disconnect': {
        const id = req.headers[PEER_HEADER]
        if (typeof id === 'string') sw.removePeer(id, 'peer disconnected')
        sendJson(res, 200, {})
        return
      }
      default:
        sendJson(res, 404, { error: `no route ${route}` })
    }
  }

  return server
}
