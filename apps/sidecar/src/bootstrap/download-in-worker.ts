import { Worker } from 'node:worker_threads'
import { type FleetKey, fleetKeyForWorkerThread } from '@ghostfleet/coordination'
import type { StructuredLogger } from '@ghostfleet/core'
import type { DownloadCheckpointResult } from './download-checkpoint.js'
import type { DownloadDir } from './download-dirs.js'
import { BootstrapError, type BootstrapFailure } from './errors.js'

/*
 * The checkpoint's transfer runs in a worker thread. On the command's main thread the transfer used 0.58-0.68× of a
 * `tar | tar` copy's speed, and 17-25% of that thread went to V8 collecting the whole heap each time ~64 MB of
 * socket buffers had come in; in a worker, whose heap holds only the transfer, the same download ran at 0.76-0.79×
 * (apps/sidecar/README.md, "bootstrap"). The worker does all of `downloadCheckpoint` (the resume, the reuse of
 * earlier downloads, every file verified against the manifest) with a peer client of its own; this side starts it,
 * passes on its log lines, aborts it on the caller's signal and turns its end back into a result or a
 * BootstrapError. The fleet key crosses as workerData, inside this process only.
 */

export interface DownloadInWorkerOptions {
  fleetKey: FleetKey
  /** The identity the new host signs its requests with. */
  sender: string
  peerUrl: string
  /** The signed manifest as the donor served it (the worker verifies it again with the key). */
  manifestText: string
  /** This checkpoint's download directory. */
  where: DownloadDir
  /** Earlier downloads on this host (their signed manifests' texts), newest first: their tables are reused. */
  earlier: ReadonlyArray<{ manifestText: string; dataDir: string }>
  parallel: number
  installBytes: number
  attempts?: number
  signal?: AbortSignal
  log: StructuredLogger
}

/** What the worker is started with. */
export interface DownloadWorkerData {
  fleetKeyHex: string
  sender: string
  peerUrl: string
  manifestText: string
  where: DownloadDir
  earlier: Array<{ manifestText: string; dataDir: string }>
  parallel: number
  installBytes: number
  attempts: number | undefined
}

/** To the worker: stop (the caller's signal fired). */
export interface DownloadWorkerAbort {
  kind: 'abort'
}

/** From the worker: a log line, the result, or the failure. */
export type DownloadWorkerMessage =
  | { kind: 'log'; level: keyof StructuredLogger; fields: Record<string, unknown>; message: string }
  | { kind: 'done'; result: DownloadCheckpointResult }
  | { kind: 'failed'; failure: BootstrapFailure | null; message: string }

/**
 * The worker's code beside this module (`here` is its import.meta.url); from the sources, under the tests, the built
 * file. The release executable's bundle replaces the `new Worker(downloadWorkerFile(…), …)` below with the worker's
 * own bundle, started with `eval` (tools/package/src/bundle.ts).
 */
export function downloadWorkerFile(here: string): URL {
  return here.endsWith('.ts')
    ? new URL('../../dist/bootstrap/download-worker.js', here)
    : new URL('./download-worker.js', here)
}

/** Downloads every file of the manifest into `where.dataDir` in a worker thread; see downloadCheckpoint. */
export function downloadInWorker(options: DownloadInWorkerOptions): Promise<DownloadCheckpointResult> {
  const data: DownloadWorkerData = {
    fleetKeyHex: fleetKeyForWorkerThread(options.fleetKey),
    sender: options.sender,
    peerUrl: options.peerUrl,
    manifestText: options.manifestText,
    where: options.where,
    // Texts only: a verified manifest's mark does not survive the copy into the worker, which verifies them again.
    earlier: options.earlier.map(({ manifestText, dataDir }) => ({ manifestText, dataDir })),
    parallel: options.parallel,
    installBytes: options.installBytes,
    attempts: options.attempts,
  }
  return new Promise((resolve, reject) => {
    // The worker gets no copy of this process's environment: it needs none, and the key travels as workerData.
    const worker = new Worker(downloadWorkerFile(import.meta.url), { workerData: data, env: {} })
    let settled = false
    const settle = (end: () => void) => {
      if (settled) return
      settled = true
      options.signal?.removeEventListener('abort', abort)
      end()
    }
    const abort = () => worker.postMessage({ kind: 'abort' } satisfies DownloadWorkerAbort)
    if (options.signal?.aborted === true) abort()
    else options.signal?.addEventListener('abort', abort, { once: true })
    worker.on('message', (message: DownloadWorkerMessage) => {
      if (message.kind === 'log') options.log[message.level](message.fields, message.message)
      else if (message.kind === 'done') settle(() => resolve(message.result))
      else
        settle(() =>
          reject(
            message.failure === null
              ? new Error(message.message)
              : new BootstrapError(message.failure, message.message),
          ),
        )
    })
    worker.on('error', (error) =>
      settle(() =>
        reject(new BootstrapError('transfer', `the download's worker thread failed: ${error.message}`)),
      ),
    )
    worker.on('exit', (code) =>
      settle(() =>
        reject(
          new BootstrapError(
            'transfer',
            `the download's worker thread exited (code ${code}) before it ended`,
          ),
        ),
      ),
    )
  })
}
