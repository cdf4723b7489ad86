import { DiscoveryError } from './discovery-error.js'

/**
 * Options given to a constructor of this package are unusable (a Consul URL without a port, a check interval
 * that is not a duration, …). Nothing was created or contacted: fix the configuration.
 */
export class InvalidOptionsError extends DiscoveryError {
  override readonly name: string = 'InvalidOptionsError'

  /**
   * @param where what was being configured (`ConsulRegistration`, `FileDiscoverer`, …).
   * @param problems one line per problem, each naming the option (`check.interval: …`).
   */
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`${where}: invalid options: ${problems.join('; ')}`)
  }
}
