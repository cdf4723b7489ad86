/**
 * Runs inside the single executable: loads a native addon carried as a SEA asset.
 *
 * `dlopen` needs a file, so the addon is written once to a cache directory under its content hash and loaded from
 * there; a later start finds the file, checks its hash and loads it without writing. A file whose hash does not
 * match (a crash mid-write, tampering) is replaced. Directories that are not ours alone (another owner, writable
 * by group or others, a symlink) are skipped, so another local user cannot plant the library we load. A directory
 * mounted `noexec` makes dlopen fail; the next candidate is tried.
 *
 * The bundler (../bundle.ts) points classic-level's `binding.js` at a module calling `loadEmbeddedAddon`.
 */
import { createHash } from 'node:crypto'
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { getRawAsset } from 'node:sea'

export interface AddonCacheEnv {
  GHOSTFLEET_CACHE_DIR?: string | undefined
  CACHE_DIRECTORY?: string | undefined
  XDG_CACHE_HOME?: string | undefined
}

/** Where the addon may be written, best first. `CACHE_DIRECTORY` is systemd's `CacheDirectory=`. */
export function addonCacheCandidates(env: AddonCacheEnv, home: string | undefined, uid: number): string[] {
  const dirs: string[] = []
  if (env.GHOSTFLEET_CACHE_DIR) dirs.push(env.GHOSTFLEET_CACHE_DIR)
  // systemd may list several directories separated by ':'; the first is the unit's own.
  const systemd = env.CACHE_DIRECTORY?.split(':')[0]
  if (systemd) dirs.push(path.join(systemd, 'ghostfleet'))
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME))
    dirs.push(path.join(env.XDG_CACHE_HOME, 'ghostfleet'))
  if (home) dirs.push(path.join(home, '.cache', 'ghostfleet'))
  dirs.push(path.join(os.tmpdir(), `ghostfleet-${uid}`))
  return dirs
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Creates `dir` (0700) and checks that only we can write to it. Throws with the reason otherwise. */
function ownPrivateDir(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stat = lstatSync(dir)
  if (!stat.isDirectory()) throw new Error('not a directory (a symlink?)')
  if (stat.uid !== uid) throw new Error(`owned by uid ${stat.uid}, not ${uid}`)
  if ((stat.mode & 0o022) !== 0)
    throw new Error(`writable by group or others (mode ${(stat.mode & 0o777).toString(8)})`)
}

/** The cached copy at `file` if its content hash is `hash`, else writes a fresh one (atomically, by rename). */
function materialize(file: string, bytes: Uint8Array, hash: string): void {
  try {
    if (sha256(readFileSync(file)) === hash) return
  } catch {
    // absent or unreadable: write it
  }
  const temp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(temp, bytes, { mode: 0o500 })
    renameSync(temp, file)
  } finally {
    rmSync(temp, { force: true })
  }
  // What we load is what we carry, even if someone raced us to the name.
  if (sha256(readFileSync(file)) !== hash) throw new Error(`${file} changed after it was written`)
}

const loaded = new Map<string, unknown>()

/**
 * The exports of the addon stored as SEA asset `asset` (e.g. `classic-level.node`), loaded once per process.
 * `version` names the cache subdirectory, so releases do not share files.
 */
export function loadEmbeddedAddon(asset: string, version: string): unknown {
  const cached = loaded.get(asset)
  if (cached !== undefined) return cached
  const bytes = new Uint8Array(getRawAsset(asset) as ArrayBuffer)
  const hash = sha256(bytes)
  const base = asset.replace(/\.node$/, '')
  const uid = process.getuid?.() ?? -1
  let home: string | undefined
  try {
    home = os.homedir()
  } catch {
    home = undefined
  }
  const failures: string[] = []
  for (const root of addonCacheCandidates(process.env, home, uid)) {
    const dir = path.join(root, version)
    const file = path.join(dir, `${base}-${hash.slice(0, 16)}.node`)
    try {
      ownPrivateDir(root, uid)
      ownPrivateDir(dir, uid)
      materialize(file, bytes, hash)
      const module = { exports: {} as unknown }
      process.dlopen(module, file)
      loaded.set(asset, module.exports)
      return module.exports
    } catch (error) {
      failures.push(`${dir}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  throw new Error(
    `ghostfleet: cannot load its LevelDB addon (${asset}); it must be written to a private directory that allows ` +
      `executable files. Set GHOSTFLEET_CACHE_DIR to such a directory (or CacheDirectory= in the systemd unit). ` +
      `Tried:\n  ${failures.join('\n  ')}`,
  )
}
