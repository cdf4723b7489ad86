/**
 * The simulated p2p protocol: JSON over HTTP on the node's `[p2p] laddr`. It stands in for CometBFT's
 * MConnection reactors and keeps the rules that decide whether a node can sync:
 *
 * - `POST /p2p/handshake` — mutual authentication. Each side proves it holds the Ed25519 node key whose
 *   sha256-derived id it claims (signing the dialer's nonce bound to the other side's id), as CometBFT's
 *   SecretConnection does; the dialer also checks the id matches the `id@` it dialed, and both check the
 *   network (chain id). After it, both sides count each other as a peer (outbound for the dialer, inbound for
 *   the listener) and either may request blocks from the other.
 * - `GET /p2p/status` — blocksync's StatusResponse: the peer's base and height.
 * - `GET /p2p/blocks?from=H&count=N` — blocksync's BlockResponse for a bounded range: the stored database
 *   values of each block (block meta, parts, seen commit, results, next validators/params info), so the
 *   follower's copy is byte-identical. Heights the peer does not have are simply absent.
 * - `GET /p2p/addrs` — PEX: the peer's address book selection. Only served when the PEX reactor runs
 *   (`pex = true`); a seed-mode node answers an inbound peer once and then disconnects it.
 * - `POST /p2p/disconnect` — the TCP close of a real connection: the caller stops being a peer.
 *
 * Every request except the handshake carries `x-simnode-peer: <node id>` and is refused (403) unless that id is
 * a connected peer: requests only flow over "connections".
 */
import { z } from 'zod'
import { type NodeInfo, nodeInfoSchema } from './node-info.js'

export const PEER_HEADER = 'x-simnode-peer'

/** Largest number of blocks one `/p2p/blocks` answer carries. */
export const MAX_BLOCKS_PER_REQUEST = 200
/** Byte budget of one `/p2p/blocks` answer (raw values, before base64). */
export const MAX_BLOCK_BYTES_PER_REQUEST = 8 * 1024 * 1024

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'nonce must be 32 bytes of lowercase hex')
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64')
const int64 = z.string().regex(/^\d+$/, 'not a non-negative integer string')

export const handshakeRequestSchema = z.object({
  node_info: nodeInfoSchema,
  pub_key: base64,
  nonce: hex32,
  signature: base64,
})
export type HandshakeRequest = z.infer<typeof handshakeRequestSchema>

/** The listener's answer: the request's fields but the nonce, which was the dialer's. */
export const handshakeResponseSchema = handshakeRequestSchema.omit({ nonce: true })
export type HandshakeResponse = z.infer<typeof handshakeResponseSchema>

/** What the dialer signs: its nonce bound to the id it believes it dialed. */
export function dialProof(listenerId: string, nonce: string): Buffer {
  return Buffer.from(`ghostfleet-simnode/handshake/dial/${listenerId}/${nonce}`)
}

/** What the listener signs: the dialer's nonce bound to the dialer's id. */
export function acceptProof(dialerId: string, nonce: string): Buffer {
  return Buffer.from(`ghostfleet-simnode/handshake/accept/${dialerId}/${nonce}`)
}

export const statusSchema = z.object({ base: int64, height: int64 })
export type PeerStatus = z.infer<typeof statusSchema>

export const rawBlockSchema = z.object({
  height: int64,
  block_meta: base64,
  parts: z.array(base64).min(1),
  seen_commit: base64,
  results: base64.nullable(),
  next_validators_info: base64,
  next_consensus_params_info: base64,
})
export type RawBlockWire = z.infer<typeof rawBlockSchema>

export const blocksResponseSchema = z.object({
  base: int64,
  height: int64,
  blocks: z.array(rawBlockSchema).max(MAX_BLOCKS_PER_REQUEST),
})
export type BlocksResponse = z.infer<typeof blocksResponseSchema>

export const pexAddressSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{40}$/),
  ip: z.string().min(1),
  port: z.number().int().min(1).max(65535),
})

export const addrsResponseSchema = z.object({ addrs: z.array(pexAddressSchema).max(250) })
export type AddrsResponse = z.infer<typeof addrsResponseSchema>

export const okSchema = z.object({}).loose()

export type { NodeInfo }
