/** Base class of every error this package throws; `instanceof PeerError` catches them all. */
export class PeerError extends Error {
  override readonly name: string = 'PeerError'
}
