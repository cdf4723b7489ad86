import { open } from 'node:fs/promises'
import { PassThrough, pipeline } from 'node:stream'
import { contentRange, parseRange } from './byte-range.js'
import type { PeerBufferedResponse, PeerRequest, PeerResponse } from './handler.js'

/** Bytes per read of a served file. */
const FILE_READ_BYTES = 1 << 20

/** A JSON response (`application/json; charset=utf-8`). */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): PeerBufferedResponse {
  return {
    status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(value),
  }
}

/** Options of {@link fileResponse}. */
export interface FileResponseOptions {
  /** @default 'application/octet-stream' */
  contentType?: string
  /** Extra headers (an ETag, a manifest id, …). */
  headers?: Record<string, string>
}

/**
 * Serves a file with single byte ranges, streamed from an open descriptor (so a file renamed or deleted meanwhile
 * is still served whole and consistently):
 * - no `Range` (or one this server ignores: several ranges, another unit) → 200 with the whole file;
 * - `bytes=a-b`, `bytes=a-`, `bytes=-n` → 206 with `Content-Range: bytes a-b/size`;
 * - a range starting at or past the end → 416 with `Content-Range: bytes *\/size`;
 * - a missing path or a directory → 404; a method other than GET or HEAD → 405.
 *
 * @example
 * const handler: PeerHandler = (request) => fileResponse(request, path.join(checkpointDir, name))
 */
export async function fileResponse(
  request: PeerRequest,
  filePath: string,
  options: FileResponseOptions = {},
): Promise<PeerResponse> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return jsonResponse(
      405,
      { error: { code: 'method-not-allowed', message: `${request.method} is not allowed, use GET or HEAD` } },
      { allow: 'GET, HEAD' },
    )
  }
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(filePath, 'r')
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return notFound(request.path)
    throw error
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) {
      await handle.close()
      return notFound(request.path)
    }
    const size = stats.size
    const headers = {
      ...options.headers,
      'accept-ranges': 'bytes',
      'content-type': options.contentType ?? 'application/octet-stream',
    }
    const range = parseRange(headerText(request.headers.range), size)
    if (range.kind === 'unsatisfiable') {
      await handle.close()
      return {
        ...jsonResponse(416, {
          error: { code: 'range-not-satisfiable', message: `the file has ${size} bytes` },
        }),
        headers: {
          ...headers,
          'content-type': 'application/json; charset=utf-8',
          'content-range': `bytes */${size}`,
        },
      }
    }
    const start = range.kind === 'partial' ? range.start : 0
    const end = range.kind === 'partial' ? range.end : size - 1
    return {
      status: range.kind === 'partial' ? 206 : 200,
      headers:
        range.kind === 'partial' ? { ...headers, 'content-range': contentRange(start, end, size) } : headers,
      length: Math.max(0, end - start + 1),
      // An empty file has no byte to read: createReadStream would read to EOF from `start`, which is fine.
      stream: () => {
        // Large reads: each one is a socket write too, and a 64 KiB default costs a syscall pair per 64 KiB.
        const file = handle.createReadStream({
          start,
          end: Math.max(start, end),
          autoClose: true,
          highWaterMark: FILE_READ_BYTES,
        })
        // The stream the server sends closes once the last byte is read, not once the descriptor is closed (a close
        // that waits in the thread pool behind other transfers' reads): whoever frees a slot on 'close' (a donor's
        // transfer cap) frees it before the peer, done with this file, asks for its next one. Destroying it
        // destroys the file stream, which closes the descriptor.
        const out = new PassThrough()
        pipeline(file, out, () => undefined)
        return out
      },
      close: () => handle.close(),
    }
  } catch (error) {
    await handle.close()
    throw error
  }
}

function notFound(path: string): PeerBufferedResponse {
  return jsonResponse(404, { error: { code: 'not-found', message: `no file at ${path}` } })
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code
}
