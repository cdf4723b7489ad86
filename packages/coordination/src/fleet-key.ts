import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { InvalidFleetKeyError } from './errors/invalid-fleet-key-error.js'

/** The environment variable holding the fleet key. */
export const FLEET_KEY_ENV = 'GHOSTFLEET_FLEET_KEY'

/** The shortest fleet key accepted: the HMAC-SHA256 block of security, 256 bits. */
export const MIN_FLEET_KEY_BYTES = 32

const HEX = /^[0-9a-fA-F]+$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/

const secrets = new WeakMap<FleetKey, Buffer>()

/**
 * The secret shared by the tracker and every sidecar to sign desired states. Its bytes never show up in logs:
 * `String(key)`, `JSON.stringify` and `console.log` print `FleetKey(<n> bytes)`.
 */
export class FleetKey {
  /** Key length in bytes. */
  readonly length: number

  private constructor(bytes: Buffer) {
    secrets.set(this, bytes)
    this.length = bytes.length
  }

  /**
   * Parses a key written as hex (`openssl rand -hex 32`) or base64 (`openssl rand -base64 32`); surrounding
   * whitespace is ignored.
   * @param source where the text came from, for the error message.
   * @throws InvalidFleetKeyError when it is neither, shorter than 32 bytes, or all one byte value.
   */
  static parse(text: string, source = 'fleet key'): FleetKey {
    const trimmed = typeof text === 'string' ? text.trim() : ''
    if (trimmed === '') throw new InvalidFleetKeyError(source, 'is empty')
    let bytes: Buffer
    if (HEX.test(trimmed)) {
      if (trimmed.length % 2 !== 0) throw new InvalidFleetKeyError(source, 'hex has an odd number of digits')
      bytes = Buffer.from(trimmed, 'hex')
    } else if (BASE64.test(trimmed) || BASE64URL.test(trimmed)) {
      bytes = Buffer.from(trimmed, BASE64.test(trimmed) ? 'base64' : 'base64url')
    } else {
      throw new InvalidFleetKeyError(source, 'is neither hex nor base64')
    }
    if (bytes.length < MIN_FLEET_KEY_BYTES) {
      throw new InvalidFleetKeyError(
        source,
        `is ${bytes.length} bytes, at least ${MIN_FLEET_KEY_BYTES} are needed`,
      )
    }
    if (bytes.every((byte) => byte === bytes[0])) {
      throw new InvalidFleetKeyError(source, 'repeats one byte value: it is a placeholder, not a random key')
    }
    return new FleetKey(bytes)
  }

  toString(): string {
    return `FleetKey(${this.length} bytes)`
  }

  toJSON(): string {
    return this.toString()
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

/** The raw key for HMAC; not exported from the package, so the bytes cannot leak through its API. */
export function fleetKeyBytes(key: FleetKey): Buffer {
  const bytes = secrets.get(key)
  if (bytes === undefined) throw new TypeError('not a FleetKey made by FleetKey.parse')
  return bytes
}

/**
 * The key as hex for a worker thread of this process (its `workerData`), where `FleetKey.parse` makes it a key again:
 * a worker has its own heap, so an object cannot cross. Only for that: never for a file, a log line, an environment
 * or another process.
 */
export function fleetKeyForWorkerThread(key: FleetKey): string {
  return fleetKeyBytes(key).toString('hex')
}

/**
 * HMAC-SHA256 of `message` under the fleet key, for signatures made outside this package (the peer link between
 * sidecars). The key bytes stay in this module. Callers must prefix `message` with a label of their own
 * (`ghostfleet-peer-request-v1\n…`) so no signed message of one protocol can be passed off as another's.
 */
export function fleetKeyHmac(key: FleetKey, message: string | Uint8Array): Buffer {
  return createHmac('sha256', fleetKeyBytes(key)).update(message).digest()
}
