import { CoordinationError } from './coordination-error.js'

/**
 * Options given to a function of this package are unusable (a bad Redis URL, a lease shorter than its safety
 * margin, …). Nothing was created or connected: fix the configuration.
 */
export class InvalidOptionsError extends CoordinationError {
  override readonly name: string = 'InvalidOptionsError'

  /**
   * @param where what was being configured (`createRedis`, `LeaderElection`, …).
   * @param problems one line per problem, each naming the option (`sentinels[0].port: …`).
   */
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`${where}: invalid options: ${problems.join('; ')}`)
  }
}
