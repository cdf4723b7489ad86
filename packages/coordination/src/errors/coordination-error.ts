/** Base class of every error this package throws; `instanceof CoordinationError` catches them all. */
export class CoordinationError extends Error {
  override readonly name: string = 'CoordinationError'
}
