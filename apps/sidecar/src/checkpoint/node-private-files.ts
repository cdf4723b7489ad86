import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'

/*
 * Where a node keeps what makes it itself: its validator key and signing state, its p2p key and its address book.
 * config.toml may move each of them (into the data directory, too), so a checkpoint excludes the configured paths
 * as well as the default file names, and an install carries the home's own signing state over.
 */

/** CometBFT's defaults (config/config.go DefaultBaseConfig, DefaultP2PConfig). */
const DEFAULTS = {
  privValidatorKey: 'config/priv_validator_key.json',
  privValidatorState: 'data/priv_validator_state.json',
  nodeKey: 'config/node_key.json',
  addrBook: 'config/addrbook.json',
} as const

const schema = z.object({
  priv_validator_key_file: z.string().optional(),
  priv_validator_state_file: z.string().optional(),
  node_key_file: z.string().optional(),
  p2p: z.object({ addr_book_file: z.string().optional() }).optional(),
})

export interface NodePrivateFiles {
  privValidatorKey: string
  privValidatorState: string
  nodeKey: string
  addrBook: string
}

/** The absolute paths of the node's private files as its config.toml sets them (CometBFT's defaults otherwise). */
export async function nodePrivateFiles(home: string): Promise<NodePrivateFiles> {
  const parsed = schema.safeParse(parseToml(await readFile(path.join(home, 'config', 'config.toml'), 'utf8')))
  // A config.toml of the wrong shape is readNodeConfig's to reject; here the defaults still name the usual files.
  const c = parsed.success ? parsed.data : {}
  const rootify = (file: string | undefined, fallback: string) => {
    const value = file === undefined || file === '' ? fallback : file
    return path.isAbsolute(value) ? value : path.join(home, value)
  }
  return {
    privValidatorKey: rootify(c.priv_validator_key_file, DEFAULTS.privValidatorKey),
    privValidatorState: rootify(c.priv_validator_state_file, DEFAULTS.privValidatorState),
    nodeKey: rootify(c.node_key_file, DEFAULTS.nodeKey),
    addrBook: rootify(c.p2p?.addr_book_file, DEFAULTS.addrBook),
  }
}

/** `file` relative to `dir` (posix separators) when it lies inside it, else null. */
export function relativeInside(file: string, dir: string): string | null {
  const relative = path.relative(dir, file)
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null
  return relative.split(path.sep).join('/')
}
