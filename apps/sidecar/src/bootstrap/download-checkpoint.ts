import { lstat, rm, statfs } from 'node:fs/promises'
import path from 'node:path'
import { type BackoffCurve, backoffDelay, errorFields, pause, type StructuredLogger } from '@ghostfleet/core'
import { type PeerClient, PeerError, PeerRejectedError, PeerStatusError } from '@ghostfleet/peer'
// The checkpoint's modules one by one, not its index: this runs in the download's worker thread, which needs no
// LevelDB, and in the release executable loading it would load the embedded native addon again in that thread.
import { type DownloadState, downloadState, openForDownload } from '../checkpoint/download-state.js'
import { errnoCode } from '../checkpoint/durable-fs.js'
import { CheckpointFileError } from '../checkpoint/errors.js'
import type { ManifestFile, VerifiedManifest } from '../checkpoint/manifest.js'
import { linkReusable, planReuse, type ReusePlan } from '../checkpoint/reuse.js'
import { verifyCheckpointFile, verifyWrittenFile } from '../checkpoint/verify.js'
import type { DownloadDir } from './download-dirs.js'
import { BootstrapError } from './errors.js'
import { fileRoute } from './routes.js'

/*
 * The transfer of a checkpoint into a download directory:
 * 1. what an interrupted run left is kept (downloadState: complete files are checked, partial ones resume at
 *    their length with a Range request);
 * 2. tables an earlier download of the same donor holds are hard-linked instead of fetched (planReuse);
 * 3. the rest comes over `parallel` connections, largest files first (so the last connection does not finish
 *    alone on a big file), each file checked against the signed manifest as soon as it is complete, with the
 *    sha256 computed while it was written (a resumed file's kept part is read once), so no file is read back.
 * A file that fails its check is fetched once more from the start (a transfer glitch); failing again, the run
 * stops: the donor serves bad data. A donor that stops answering is retried with backoff, then the run stops
 * with everything downloaded so far kept for the next run. Nothing here touches the node home.
 */

export interface DownloadCheckpointOptions {
  client: PeerClient
  /** The donor's peer listener. */
  peerUrl: string
  manifest: VerifiedManifest
  where: DownloadDir
  /** Earlier downloads on this host (verified manifests), newest first: their tables are reused. */
  earlier: ReadonlyArray<{ manifest: VerifiedManifest; dataDir: string }>
  /** Files transferred at once (connections to the donor). */
  parallel: number
  /** Tries per file when the donor does not answer or cuts the transfer. @default 4 */
  attempts?: number
  /** Waits between those tries. @default 500 ms doubling to 5 s */
  retry?: BackoffCurve
  /** How long a donor may answer "busy" (429, 503, 409 while sealing) for one file. @default 600000 */
  busyTimeoutMs?: number
  /** Deadline for the head of each file and for each pause in its body. @default 30000 */
  timeoutMs?: number
  /** Bytes the install will need on this filesystem on top of the download (its copied files). @default 0 */
  installBytes?: number
  signal?: AbortSignal
  log: StructuredLogger
}

export interface DownloadCheckpointResult {
  files: number
  bytes: number
  /** Complete and correct from an interrupted earlier run of this download. */
  keptFiles: number
  keptBytes: number
  /** Hard-linked (or copied) from an earlier download of the same donor. */
  reusedFiles: number
  reusedBytes: number
  /** Partial files continued with a range request. */
  resumedFiles: number
  /** Files (and bytes) that came over the network in this run. */
  fetchedFiles: number
  fetchedBytes: number
  durationMs: number
}

const DEFAULT_RETRY: BackoffCurve = { initialMs: 500, maxMs: 5_000, jitter: 'equal' }
/** Free space asked beyond the bytes to write: directory blocks, the manifest. */
const SPACE_MARGIN = 4 << 20

type Pending = DownloadState['pending'][number]

/** Downloads every file of `options.manifest` into `options.where.dataDir`, verified. */
export async function downloadCheckpoint(
  options: DownloadCheckpointOptions,
): Promise<DownloadCheckpointResult> {
  const started = Date.now()
  const { manifest, where, log } = options
  const state = await downloadState(manifest, where.dataDir)
  const result: DownloadCheckpointResult = {
    files: manifest.files.length,
    bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0),
    keptFiles: state.done.length,
    keptBytes: state.doneBytes,
    reusedFiles: 0,
    reusedBytes: 0,
    resumedFiles: 0,
    fetchedFiles: 0,
    fetchedBytes: 0,
    durationMs: 0,
  }
  const pending = await reuseEarlier(options, state.pending, result)
  await checkSpace(where.dir, pending, options.installBytes ?? 0)
  log.info(
    {
      checkpoint: manifest.id,
      files: result.files,
      bytes: result.bytes,
      kept: result.keptFiles,
      reused: result.reusedFiles,
      toFetch: pending.length,
      toFetchBytes: pending.reduce((sum, p) => sum + p.file.bytes - p.offset, 0),
      parallel: options.parallel,
    },
    'downloading the checkpoint',
  )

  // Largest first: the parallel connections then end at about the same time.
  const queue = [...pending].sort((a, b) => b.file.bytes - b.offset - (a.file.bytes - a.offset))
  const stop = new AbortController()
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal])
  let failure: unknown = null
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined && failure === null; next = queue.shift()) {
      try {
        await fetchFile(options, next, result, signal)
      } catch (error) {
        if (failure === null) failure = error
        stop.abort()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, queue.length)) }, worker))
  if (failure !== null) throw failure
  if (options.signal?.aborted === true)
    throw new BootstrapError('transfer', 'the download was interrupted; run bootstrap again to resume it')
  result.durationMs = Date.now() - started
  return result
}

/** Links what earlier downloads already hold of the files still pending from 0; returns what is left to fetch. */
async function reuseEarlier(
  options: DownloadCheckpointOptions,
  pending: Pending[],
  result: DownloadCheckpointResult,
): Promise<Pending[]> {
  let left = pending
  for (const older of options.earlier) {
    const fromStart = new Set(left.filter((p) => p.offset === 0).map((p) => p.file.path))
    if (fromStart.size === 0) break
    const plan = await planReuse({
      manifest: options.manifest,
      older: older.manifest,
      olderDataDir: older.dataDir,
    })
    if (plan.reason !== null) {
      options.log.debug({ older: older.manifest.id, reason: plan.reason }, 'earlier download not reusable')
      continue
    }
    const usable: ReusePlan = { ...plan, reuse: plan.reuse.filter((r) => fromStart.has(r.file.path)) }
    if (usable.reuse.length === 0) continue
    for (const { file } of usable.reuse)
      await rm(path.join(options.where.dataDir, ...file.path.split('/')), { force: true })
    await linkReusable(usable, options.where.dataDir)
    const linked = new Set(usable.reuse.map((r) => r.file.path))
    result.reusedFiles += usable.reuse.length
    result.reusedBytes += usable.reuse.reduce((sum, r) => sum + r.file.bytes, 0)
    left = left.filter((p) => !linked.has(p.file.path))
    options.log.info(
      { older: older.manifest.id, files: usable.reuse.length },
      'reusing tables of an earlier checkpoint of the same donor',
    )
  }
  return left
}

async function checkSpace(dir: string, pending: Pending[], installBytes: number): Promise<void> {
  const needed = pending.reduce((sum, p) => sum + p.file.bytes - p.offset, 0) + installBytes + SPACE_MARGIN
  const fs = await statfs(dir)
  const free = fs.bavail * fs.bsize
  if (free < needed) {
    throw new BootstrapError(
      'disk',
      `not enough free space for the checkpoint on the filesystem of ${dir}: it needs ${needed} bytes ` +
        `(${installBytes} of them for the install's copies), ${free} are free. Free space (or pass --download-dir on ` +
        "the home's filesystem with room) and run bootstrap again; the node home was not touched.",
    )
  }
}

/** One file: fetched (resumed where possible), verified, retried on transfer failures. */
async function fetchFile(
  options: DownloadCheckpointOptions,
  item: Pending,
  result: DownloadCheckpointResult,
  signal: AbortSignal,
): Promise<void> {
  const { file } = item
  const local = path.join(options.where.dataDir, ...file.path.split('/'))
  const attempts = options.attempts ?? 4
  let offset = item.offset
  let refetched = false
  let busySince: number | null = null
  if (offset > 0) result.resumedFiles++
  for (let attempt = 0; ; attempt++) {
    let written: string | null = null
    try {
      // Truncates to the resume point, or starts a new inode (never writing through a link to a node's table).
      await (await openForDownload(options.where.dataDir, file.path, offset)).close()
      const got = await options.client.downloadToFile(options.peerUrl, {
        path: fileRoute(options.manifest.id, file.path),
        file: local,
        // Hashed on its way to the disk (a kept prefix read once): the check below does not read the file again.
        sha256: true,
        signal,
        timeoutMs: options.timeoutMs ?? 30_000,
      })
      result.fetchedBytes += got.bytesWritten
      written = got.sha256
    } catch (error) {
      if (signal.aborted)
        throw new BootstrapError(
          'transfer',
          options.signal?.aborted === true
            ? `interrupted; what was downloaded is kept in ${options.where.dir}: run bootstrap again to resume`
            : 'stopped: another file failed',
          { cause: error },
        )
      if (errnoCode(error) === 'ENOSPC') throw noSpace(options.where.dir, error)
      if (!(error instanceof PeerError)) throw error
      if (error instanceof PeerStatusError && (error.status === 404 || error.status === 410)) {
        throw new BootstrapError(
          'transfer',
          `the donor ${options.manifest.donor} no longer serves checkpoint ${options.manifest.id} (${error.status} for ` +
            `${file.path}; its TTL may have passed): run bootstrap again for a new checkpoint`,
          { cause: error },
        )
      }
      const bytesSoFar = await partialSize(local, file)
      if (isBusy(error)) {
        // The donor caps its transfers (and rate-limits peers) so the node's RPC keeps its share: a busy answer is
        // no failure of the transfer, only a wait, bounded by the busy deadline rather than the tries.
        busySince ??= Date.now()
        if (Date.now() - busySince > (options.busyTimeoutMs ?? 600_000))
          throw new BootstrapError(
            'transfer',
            `the donor ${options.manifest.donor} stayed busy for ${file.path} (${error.message}); run bootstrap again ` +
              'later to resume. The node home was not touched.',
            { cause: error },
          )
        await pause(retryAfterMs(error) ?? backoffDelay(2, options.retry ?? DEFAULT_RETRY), signal)
        offset = bytesSoFar
        attempt--
        continue
      }
      busySince = null
      if (attempt + 1 >= attempts) {
        throw new BootstrapError(
          'transfer',
          `the donor ${options.manifest.donor} at ${options.peerUrl} stopped serving ${file.path} after ${attempts} ` +
            `tries (${error.message}); what was downloaded is kept in ${options.where.dir}: run bootstrap again ` +
            'to resume. The node home was not touched.',
          { cause: error },
        )
      }
      options.log.warn(
        { file: file.path, attempt: attempt + 1, bytes: bytesSoFar, ...errorFields(error) },
        'checkpoint file transfer failed; resuming',
      )
      await pause(backoffDelay(attempt, options.retry ?? DEFAULT_RETRY), signal)
      offset = bytesSoFar
      continue
    }
    try {
      if (written === null) await verifyCheckpointFile(local, file)
      else await verifyWrittenFile(local, file, written)
      result.fetchedFiles++
      return
    } catch (error) {
      if (!(error instanceof CheckpointFileError)) throw error
      if (refetched)
        throw new BootstrapError(
          'files',
          `${file.path} from the donor ${options.manifest.donor} does not match the signed manifest twice in a row ` +
            `(${error.problems[0]?.detail ?? error.message}): the donor's checkpoint or the transfer corrupts data. ` +
            'Nothing was installed; the node home was not touched.',
          { cause: error },
        )
      options.log.warn(
        { file: file.path, ...errorFields(error) },
        'checkpoint file does not match; fetching it again',
      )
      refetched = true
      offset = 0
    }
  }
}

/** A donor at its transfer cap or rate limit, or still sealing: wait and ask again. */
function isBusy(error: PeerError): boolean {
  if (error instanceof PeerRejectedError) return error.status === 429 || error.status === 503
  return error instanceof PeerStatusError && [409, 429, 503].includes(error.status)
}

/** The wait a busy answer asks for (Retry-After, seconds), capped at 30 s; undefined when it names none. */
function retryAfterMs(error: PeerError): number | undefined {
  let seconds: number | undefined
  if (error instanceof PeerRejectedError) seconds = error.retryAfterSeconds
  else if (error instanceof PeerStatusError) {
    const header = Number(error.headers['retry-after'])
    seconds = Number.isFinite(header) && header >= 0 ? header : undefined
  }
  return seconds === undefined ? undefined : Math.min(30, seconds) * 1000
}

/** How much of a file a cut transfer left to resume from (0 when it cannot be resumed). */
async function partialSize(local: string, file: ManifestFile): Promise<number> {
  const info = await lstat(local).catch(() => null)
  if (info === null || !info.isFile() || info.nlink !== 1 || info.size > file.bytes) return 0
  return info.size === file.bytes ? 0 : info.size
}

function noSpace(dir: string, cause: unknown): BootstrapError {
  return new BootstrapError(
    'disk',
    `no space left on the filesystem of ${dir} during the download; free space and run bootstrap again to resume ` +
      '(what was downloaded is kept). The node home was not touched.',
    { cause },
  )
}
