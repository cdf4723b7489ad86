import { createHash } from 'node:crypto'
import { cp, readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { GoleveldbDigest, GoleveldbTool } from '@ghostfleet/testkit'

/** sha256 of every file under `dir` (relative path → hash), to prove a command changed nothing. */
export async function hashTree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) Object.assign(out, await hashTree(full, relative))
    else if (entry.isFile())
      out[relative] = createHash('sha256')
        .update(await readFile(full))
        .digest('hex')
  }
  return out
}

let copies = 0

/**
 * goleveldb's digest of a database as a node would see it, taken on a copy in `scratch`: opening a store with
 * goleveldb replays its journal into new files, so the original must never be opened.
 */
export async function digestOfCopy(gl: GoleveldbTool, db: string, scratch: string): Promise<GoleveldbDigest> {
  const copy = path.join(scratch, `digest-${process.pid}-${++copies}`)
  await cp(db, copy, { recursive: true })
  return await gl.digest(copy)
}
