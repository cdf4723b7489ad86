import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'

/** sha256 (hex) and size of a file, read as a stream: table files run to hundreds of MB, a data directory to TB. */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buffer = chunk as Buffer
    bytes += buffer.length
    hash.update(buffer)
  }
  return { sha256: hash.digest('hex'), bytes }
}

/** Every regular file under `dir`, as posix paths relative to it, sorted (byte order). */
export async function listRegularFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    if (entry.isDirectory()) out.push(...(await listRegularFiles(path.join(dir, entry.name), relative)))
    else if (entry.isFile()) out.push(relative)
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
