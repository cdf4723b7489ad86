/*
 * The named failures of the checkpoint library. Every message says what was found and what the operator can do;
 * none carries the fleet key or a signature's expected value.
 */

/** A checkpoint cannot be taken here (node running, other filesystem, not a goleveldb home); nothing was written. */
export class CheckpointRefusedError extends Error {
  override readonly name = 'CheckpointRefusedError'
}

/** Why a manifest was rejected. */
export type ManifestRejectCode = 'malformed' | 'unsigned' | 'bad-signature' | 'mismatch'

/** A manifest that does not parse, is not signed with this fleet's key, or does not fit what it describes. */
export class CheckpointManifestError extends Error {
  override readonly name = 'CheckpointManifestError'
  constructor(
    readonly code: ManifestRejectCode,
    message: string,
  ) {
    super(message)
  }
}

/** One file that is not what the signed manifest says. */
export interface FileProblem {
  path: string
  problem: 'missing' | 'not-a-file' | 'size' | 'sha256'
  detail: string
}

/** Downloaded files that do not match the signed manifest; lists the first problems found. */
export class CheckpointFileError extends Error {
  override readonly name = 'CheckpointFileError'
  constructor(
    readonly problems: readonly FileProblem[],
    total: number,
  ) {
    const shown = problems
      .slice(0, 5)
      .map((p) => `${p.path}: ${p.detail}`)
      .join('; ')
    super(
      `${total} file(s) do not match the signed checkpoint manifest: ${shown}${total > 5 ? '; …' : ''}. ` +
        'Download them again; a file that keeps failing means the donor or the transfer corrupts data.',
    )
  }
}

/** A download file cannot be resumed where asked (it has other links, or is shorter than the offset). */
export class DownloadResumeError extends Error {
  override readonly name = 'DownloadResumeError'
}

/** Installing a checkpoint into a node home failed or was refused; the home is as it was. */
export class CheckpointInstallError extends Error {
  override readonly name = 'CheckpointInstallError'
}
