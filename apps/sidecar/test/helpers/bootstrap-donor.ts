import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Transform } from 'node:stream'
import type { FleetKey } from '@ghostfleet/coordination'
import {
  fileResponse,
  jsonResponse,
  type PeerRequest,
  type PeerResponse,
  type PeerServer,
  startPeerServer,
} from '@ghostfleet/peer'
import {
  MANIFEST_FILE,
  readSealedManifest,
  removeCheckpoint,
  servedFilePath,
} from '../../src/checkpoint/index.js'

/*
 * A donor's checkpoint routes on a real signed peer listener (the routes the donor sidecar serves), over sealed
 * checkpoints in `checkpointsDir`. For the failure tests it can serve a given manifest text instead of the sealed
 * one, and vanish (close, cutting every transfer) once it has streamed a number of bytes.
 */

export interface TestDonorOptions {
  key: FleetKey
  sidecarId: string
  chainId: string
  checkpointsDir: string
  /** `127.0.0.1:0` unless given (a restarted donor comes back on its old port). */
  listen?: string
  /** Serve this text as every manifest (a forgery). */
  manifestText?: string
  /** Answer 429 (Retry-After: 1) to a file request while this many transfers stream (a donor's transfer cap). */
  maxTransfers?: number
  /** Called with the file bytes streamed so far, after each chunk. */
  onServed?: (bytes: number) => void
  /** Close the listener, cutting every connection, after streaming this many file bytes. */
  vanishAfterBytes?: number
}

export interface TestDonor {
  server: PeerServer
  url: string
  port: number
  /** File bytes streamed, file requests answered, the most file transfers streaming at once, 429s, DELETEs. */
  served: {
    bytes: number
    files: number
    inFlight: number
    maxInFlight: number
    busy: number
    deletes: string[]
  }
  /** Resolves once the donor vanished (vanishAfterBytes). */
  vanished: Promise<void>
  close(): Promise<void>
}

export async function startTestDonor(options: TestDonorOptions): Promise<TestDonor> {
  const served = { bytes: 0, files: 0, inFlight: 0, maxInFlight: 0, busy: 0, deletes: [] as string[] }
  let server: PeerServer | null = null
  let vanish: () => void = () => undefined
  const vanished = new Promise<void>((resolve) => {
    vanish = resolve
  })
  let gone = false
  const count = (chunkBytes: number): void => {
    served.bytes += chunkBytes
    options.onServed?.(served.bytes)
    const limit = options.vanishAfterBytes
    if (limit !== undefined && !gone && served.bytes >= limit) {
      gone = true
      void server?.close({ graceMs: 0 }).then(vanish)
    }
  }

  const handler = async (request: PeerRequest): Promise<PeerResponse> => {
    const match = /^\/v1\/checkpoints\/([^/]+)(?:\/(manifest|files\/(.+)))?$/.exec(request.path)
    if (match === null) return jsonResponse(404, { error: 'no such route' })
    const [, id, what, relativePath] = match as unknown as [
      string,
      string,
      string | undefined,
      string | undefined,
    ]
    const dir = path.join(options.checkpointsDir, id)
    if (what === undefined && request.method === 'DELETE') {
      served.deletes.push(id)
      return jsonResponse(200, { removed: await removeCheckpoint(options.checkpointsDir, id) })
    }
    if (what === 'manifest') {
      const text =
        options.manifestText ?? (await readFile(path.join(dir, MANIFEST_FILE), 'utf8').catch(() => null))
      return text === null
        ? jsonResponse(404, { error: `no checkpoint ${id}` })
        : { status: 200, headers: { 'content-type': 'application/json' }, body: text }
    }
    if (relativePath === undefined) return jsonResponse(404, { error: 'no such route' })
    const manifest = await readSealedManifest(dir, options.key).catch(() => null)
    const file = manifest === null ? null : servedFilePath(dir, manifest, relativePath)
    if (file === null) return jsonResponse(404, { error: `no file ${relativePath} in checkpoint ${id}` })
    if (options.maxTransfers !== undefined && served.inFlight >= options.maxTransfers) {
      served.busy++
      return jsonResponse(429, { error: 'too many transfers' }, { 'retry-after': '1' })
    }
    served.files++
    // A transfer holds its slot from the request until its stream closes (as a donor's transfer cap counts).
    served.inFlight++
    served.maxInFlight = Math.max(served.maxInFlight, served.inFlight)
    const answer = await fileResponse(request, file)
    if (!('stream' in answer)) {
      served.inFlight--
      return answer
    }
    return {
      ...answer,
      stream: () => {
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            count(chunk.length)
            done(null, chunk)
          },
        })
        counter.once('close', () => {
          served.inFlight--
        })
        return answer.stream().pipe(counter)
      },
      close: async () => {
        served.inFlight--
        await answer.close?.()
      },
    }
  }

  server = await startPeerServer({
    listen: options.listen ?? '127.0.0.1:0',
    key: options.key,
    sidecarId: options.sidecarId,
    chainId: options.chainId,
    handler,
    limits: { perSender: { ratePerSecond: 1_000, burst: 1_000 } },
  })
  const url = server.url
  return {
    server,
    url,
    port: Number(new URL(url).port),
    served,
    vanished,
    close: async () => {
      if (!gone) await server?.close({ graceMs: 0 })
      gone = true
    },
  }
}
