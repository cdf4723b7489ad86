import { createHash } from 'node:crypto'

/*
 * Bech32 (BIP-173) encoding of Cosmos addresses, so the simulated `account`, stakers and funders are addresses a
 * real client can decode, and the pool account is exactly the chain's `authtypes.NewModuleAddress("pool/<id>")`.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function polymod(values: number[]): number {
  let checksum = 1
  for (const value of values) {
    const top = checksum >>> 25
    checksum = ((checksum & 0x1ffffff) << 5) ^ value
    GENERATORS.forEach((generator, bit) => {
      if ((top >>> bit) & 1) checksum ^= generator
    })
  }
  return checksum >>> 0
}

function expandPrefix(prefix: string): number[] {
  const high = [...prefix].map((char) => (char.codePointAt(0) ?? 0) >>> 5)
  const low = [...prefix].map((char) => (char.codePointAt(0) ?? 0) & 31)
  return [...high, 0, ...low]
}

function toWords(bytes: Uint8Array): number[] {
  const words: number[] = []
  let accumulator = 0
  let bits = 0
  for (const byte of bytes) {
    accumulator = (accumulator << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      words.push((accumulator >>> bits) & 31)
    }
  }
  if (bits > 0) words.push((accumulator << (5 - bits)) & 31)
  return words
}

/** Bech32-encodes `bytes` under the human-readable `prefix` (e.g. "kyve"). */
export function bech32Encode(prefix: string, bytes: Uint8Array): string {
  const words = toWords(bytes)
  const mod = polymod([...expandPrefix(prefix), ...words, 0, 0, 0, 0, 0, 0]) ^ 1
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31)
  return `${prefix}1${[...words, ...checksum].map((word) => CHARSET[word]).join('')}`
}

/** Cosmos SDK `address.Module(name)` = sha256(name)[:20], bech32-encoded (`authtypes.NewModuleAddress`). */
export function moduleAddress(name: string, prefix: string): string {
  return bech32Encode(prefix, createHash('sha256').update(name).digest().subarray(0, 20))
}

/** A stable, made-up account address derived from `seed` (stakers, funders of the simulated pools). */
export function derivedAddress(seed: string, prefix: string): string {
  return bech32Encode(
    prefix,
    createHash('sha256').update(`ghostfleet-kyve-sim/${seed}`).digest().subarray(0, 20),
  )
}
