/*
 * The worker thread of downloadInWorker (download-in-worker.ts): one `downloadCheckpoint` with a peer client of its
 * own, its log lines and its end posted to the thread that started it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { FleetKey } from '@ghostfleet/coordination'
import type { StructuredLogger } from '@ghostfleet/core'
import { verifyManifest } from '../checkpoint/manifest.js'
import { downloadCheckpoint } from './download-checkpoint.js'
import type { DownloadWorkerAbort, DownloadWorkerData, DownloadWorkerMessage } from './download-in-worker.js'
import { BootstrapError } from './errors.js'
import { bootstrapPeerClient } from './peer-client.js'

const port = parentPort
if (port === null)
  throw new Error('download-worker.js runs only as a worker thread (see download-in-worker.ts)')
const post = (message: DownloadWorkerMessage) => port.postMessage(message)
const logAt =
  (level: keyof StructuredLogger) =>
  (fields: Record<string, unknown>, message: string): void =>
    post({ kind: 'log', level, fields, message })
const log: StructuredLogger = {
  debug: logAt('debug'),
  info: logAt('info'),
  warn: logAt('warn'),
  error: logAt('error'),
}

const data = workerData as DownloadWorkerData
const stop = new AbortController()
port.on('message', (message: DownloadWorkerAbort) => {
  if (message.kind === 'abort') stop.abort()
})
// Listening for an abort must not keep the thread alive once the download has ended.
port.unref()

/** The download, to its end; an async function, since the release bundles this file as CommonJS (no top-level await). */
async function run(): Promise<void> {
  const key = FleetKey.parse(data.fleetKeyHex, 'the fleet key handed to the download thread')
  const client = bootstrapPeerClient(key, data.sender, data.parallel)
  try {
    const manifest = verifyManifest(data.manifestText, key)
    const result = await downloadCheckpoint({
      client,
      peerUrl: data.peerUrl,
      manifest,
      where: data.where,
      earlier: data.earlier.map((e) => ({
        manifest: verifyManifest(e.manifestText, key),
        dataDir: e.dataDir,
      })),
      parallel: data.parallel,
      installBytes: data.installBytes,
      log,
      signal: stop.signal,
      ...(data.attempts === undefined ? {} : { attempts: data.attempts }),
    })
    post({ kind: 'done', result })
  } catch (error) {
    post({
      kind: 'failed',
      failure: error instanceof BootstrapError ? error.failure : null,
      message: error instanceof Error ? error.message : String(error),
    })
  } finally {
    client.close()
  }
}

void run()
