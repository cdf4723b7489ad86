/*
 * The failures of `bootstrap`. Each message says what happened, whether the home was touched (it never is before
 * the install, and the install is atomic) and what the operator can do next; none carries the fleet key.
 */

/** Why a bootstrap stopped: the exit code and the log group by it. */
export type BootstrapFailure =
  | 'refused' // the home holds data (no --force), or the config does not fit
  | 'no-donor' // the tracker has no eligible donor, or the request failed or expired
  | 'manifest' // the manifest is forged, of another chain, or not the checkpoint asked for
  | 'transfer' // the donor stopped answering; the download resumes on the next run
  | 'files' // downloaded files do not match the signed manifest
  | 'disk' // not enough space for the download or the install
  | 'install' // the install failed or was refused; the home is as it was
  | 'verify' // the installed node does not serve the donor's blocks

export class BootstrapError extends Error {
  override readonly name = 'BootstrapError'
  constructor(
    readonly failure: BootstrapFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
