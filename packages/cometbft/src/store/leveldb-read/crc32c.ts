/*
 * CRC-32C (Castagnoli), as LevelDB uses it for log records and table blocks, plus LevelDB's "masked" form
 * (util/crc32c.h `Mask`; goleveldb util.CRC.Value): stored CRCs are masked so that a CRC of data that itself
 * contains CRCs does not degenerate.
 */

const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32C of `data` (unmasked). */
export function crc32c(data: Uint8Array, initial = 0): number {
  let crc = ~initial >>> 0
  for (let i = 0; i < data.length; i++)
    crc = (TABLE[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8)
  return ~crc >>> 0
}

/** LevelDB's masked CRC: rotate right by 15 bits and add a constant. */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0
}

/** The masked CRC-32C LevelDB stores for `data`. */
export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data))
}
