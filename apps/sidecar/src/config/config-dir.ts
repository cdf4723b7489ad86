import os from 'node:os'
import path from 'node:path'

/*
 * The sidecar's config directory (default `~/.ghostfleet`, supervysor used `~/.supervysor`):
 *   config.toml          the configuration, written by `init`
 *   state.json           mode, last prune, prune clock, node pid (written by `start`, atomically)
 *   addrbook-stash/      the node's address book while in ghost mode (+ its manifest)
 *   backups/             default destination of `backup`
 */

export const CONFIG_FILE = 'config.toml'
export const STASH_DIR = 'addrbook-stash'
export const BACKUP_DIR = 'backups'

/** Expands a leading `~` (flags come from shells that did not expand it, e.g. `--config=~/.ghostfleet`). */
export function expandHome(value: string): string {
  if (value === '~') return os.homedir()
  if (value.startsWith('~/')) return path.join(os.homedir(), value.slice(2))
  return value
}

/** The config directory from `--config`, or the default `~/.ghostfleet`, as an absolute path. */
export function resolveConfigDir(flag: string | undefined): string {
  return path.resolve(expandHome(flag ?? path.join(os.homedir(), '.ghostfleet')))
}

export function configFilePath(configDir: string): string {
  return path.join(configDir, CONFIG_FILE)
}

export function stashDirPath(configDir: string): string {
  return path.join(configDir, STASH_DIR)
}

export function backupDirPath(configDir: string): string {
  return path.join(configDir, BACKUP_DIR)
}
