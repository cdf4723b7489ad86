/** Base class of every error this package throws; `instanceof DiscoveryError` catches them all. */
export class DiscoveryError extends Error {
  override readonly name: string = 'DiscoveryError'
}
