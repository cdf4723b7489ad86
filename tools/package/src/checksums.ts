/** `SHA256SUMS` in the format `sha256sum --check` reads: `<hex>  <file name>`, one line per file. */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

/** Writes `SHA256SUMS` beside `files` (all in one directory) and returns its path. */
export async function writeChecksums(dir: string, files: string[]): Promise<string> {
  const lines: string[] = []
  for (const file of files) lines.push(`${await sha256File(file)}  ${path.relative(dir, file)}`)
  const sums = path.join(dir, 'SHA256SUMS')
  await writeFile(sums, `${lines.join('\n')}\n`)
  return sums
}
