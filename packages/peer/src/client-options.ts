import type { FleetKey } from '@ghostfleet/coordination'
import { z } from 'zod'
import { abortSignal, chainId, fleetKey, sidecarId, wholeNumber } from './option-fields.js'

/** Options of {@link createPeerClient}. */
export interface PeerClientOptions {
  key: FleetKey
  /** This sidecar's id, sent and signed with every request. */
  sender: string
  /** Default deadline of one call (head and body of `request`; the head of `download`, then per idle gap). @default 10000 */
  timeoutMs?: number
  /** Largest body `request` accepts. @default 16 MiB */
  maxResponseBytes?: number
  /** Connections kept per peer. @default 16 */
  maxSockets?: number
}

export const peerClientOptionsSchema = z.strictObject({
  key: fleetKey(),
  sender: sidecarId(),
  timeoutMs: wholeNumber(100, 600_000, 'milliseconds').default(10_000),
  maxResponseBytes: wholeNumber(1_024, 1024 * 1024 * 1024, 'bytes').default(16 * 1024 * 1024),
  maxSockets: wholeNumber(1, 1_024, 'connections').default(16),
})

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/
// A path as it goes on the request line: starts with /, visible ASCII only (encode everything else).
const TARGET = /^\/[\x21-\x7e]{0,8191}$/

const target = () =>
  z.string({ error: 'expected a path starting with /' }).regex(TARGET, {
    error: 'expected a path starting with /, visible ASCII only (percent-encode the rest), at most 8 KiB',
  })

const extraHeaders = () =>
  z.record(
    z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, { error: 'expected a header name' })
      .refine(
        (name) => {
          const lower = name.toLowerCase()
          return (
            !lower.startsWith('x-ghostfleet-') &&
            !['host', 'content-length', 'range', 'transfer-encoding', 'connection'].includes(lower)
          )
        },
        { error: 'this header is set by the peer client' },
      ),
    z.string().regex(/^[\t\x20-\x7e]*$/, { error: 'expected a header value of printable ASCII' }),
  )

/** One call of {@link PeerClient.request}. */
export interface PeerCallOptions {
  /** @default 'GET' */
  method?: string
  /** Path and query, e.g. `/rpc/block?height=5`; appended to the base URL's path. */
  path: string
  body?: Uint8Array | string
  /** Extra headers; the auth headers, Host, Content-Length and Range are set by the client. */
  headers?: Record<string, string>
  /** Refuse a valid answer from a sidecar of another chain. */
  expectChainId?: string
  signal?: AbortSignal
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number
}

export const peerCallOptionsSchema = z.strictObject({
  method: z.string().regex(TOKEN, { error: 'expected an HTTP method such as GET or POST' }).default('GET'),
  path: target(),
  body: z.union([z.string(), z.instanceof(Uint8Array)], { error: 'expected a string or bytes' }).optional(),
  headers: extraHeaders().optional(),
  expectChainId: chainId().optional(),
  signal: abortSignal().optional(),
  timeoutMs: wholeNumber(100, 600_000, 'milliseconds').optional(),
})

/** One call of {@link PeerClient.download}. */
export interface PeerDownloadOptions {
  /** Path of the file on the peer. */
  path: string
  /** Bytes `start` to `end` (inclusive); without `end`, to the end of the file. Without a range, the whole file. */
  range?: { start: number; end?: number }
  expectChainId?: string
  signal?: AbortSignal
  /** Deadline for the head, then the longest pause between two chunks. */
  timeoutMs?: number
}

const offset = () => wholeNumber(0, Number.MAX_SAFE_INTEGER, 'bytes')

export const peerDownloadOptionsSchema = z.strictObject({
  path: target(),
  range: z
    .strictObject({ start: offset(), end: offset().optional() })
    .refine((range) => range.end === undefined || range.end >= range.start, {
      error: 'range.end must be ≥ range.start',
    })
    .optional(),
  expectChainId: chainId().optional(),
  signal: abortSignal().optional(),
  timeoutMs: wholeNumber(100, 600_000, 'milliseconds').optional(),
})

/** One call of {@link PeerClient.downloadToFile}. */
export interface PeerDownloadToFileOptions {
  path: string
  /** Local file; when it exists, the download resumes after its last byte. */
  file: string
  /** Also return the sha256 of the whole file, hashed while it is written (a resumed prefix is read once). */
  sha256?: boolean
  expectChainId?: string
  signal?: AbortSignal
  timeoutMs?: number
}

export const peerDownloadToFileOptionsSchema = z.strictObject({
  path: target(),
  file: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' }),
  sha256: z.boolean({ error: 'expected true or false' }).default(false),
  expectChainId: chainId().optional(),
  signal: abortSignal().optional(),
  timeoutMs: wholeNumber(100, 600_000, 'milliseconds').optional(),
})
