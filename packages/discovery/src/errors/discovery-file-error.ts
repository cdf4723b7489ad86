import { DiscoveryError } from './discovery-error.js'

/**
 * A file_sd targets file could not be used: unreadable, not JSON, or not in the Prometheus file_sd shape.
 * The message names the file and, for shape problems, every offending entry (`[2].targets[0]: …`).
 */
export class DiscoveryFileError extends DiscoveryError {
  override readonly name: string = 'DiscoveryFileError'

  /**
   * @param path the file that was read.
   * @param problems one line per problem; the first names the entry when the shape is wrong.
   */
  constructor(
    readonly path: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((problem) => `${path}: ${problem}`).join('\n'))
  }
}
