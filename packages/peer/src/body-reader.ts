import type { IncomingMessage } from 'node:http'

/** The request body, or why it could not be read. */
export type BodyResult =
  | { kind: 'ok'; body: Buffer }
  | { kind: 'too-large' }
  | { kind: 'timeout' }
  | { kind: 'gone' }

const EMPTY = Buffer.alloc(0)

/**
 * Reads the whole body into memory, refusing it as soon as it passes `maxBytes` (from Content-Length before a
 * byte is read, or while reading a chunked body) and giving up at `deadlineMs` (a slow sender holds a slot).
 */
export function readBody(
  request: IncomingMessage,
  maxBytes: number,
  deadlineMs: number,
): Promise<BodyResult> {
  const declared = request.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.resolve({ kind: 'too-large' })
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (result: BodyResult): void => {
      clearTimeout(timer)
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onGone)
      request.off('close', onClose)
      if (result.kind !== 'ok') request.pause()
      resolve(result)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBytes) finish({ kind: 'too-large' })
      else chunks.push(chunk)
    }
    const onEnd = (): void => finish({ kind: 'ok', body: size === 0 ? EMPTY : Buffer.concat(chunks, size) })
    const onGone = (): void => finish({ kind: 'gone' })
    const onClose = (): void => {
      if (!request.complete) finish({ kind: 'gone' })
    }
    const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.max(0, deadlineMs - Date.now()))
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('error', onGone)
    request.on('close', onClose)
  })
}
