import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { buildLaunchCommand, findFreeLoopbackPort } from '@ghostfleet/cometbft'
import type { NodeMode } from '@ghostfleet/core'
import type { LaunchSpec } from './node-process.js'
import { NODE_MARKER_ENV } from './process-inspect.js'

/*
 * The node's command line for a mode, built afresh at every start (so a crash restart in ghost mode gets a new
 * loopback P2P port too). Ghost mode comes from `buildLaunchCommand`: seeds, persistent peers and PEX off, a
 * loopback listen address; pass-through flags for those four settings are dropped in ghost mode. That is also
 * how `init --seeds` works: the seeds are stored as `--p2p.seeds …` in `node.flags`, so they apply in normal
 * mode and vanish in ghost mode, and the node's own config.toml seeds stay in force when none were given.
 */

export interface LaunchSettings {
  /** `node.binary`: the chain binary, or cosmovisor when `launcher` is `cosmovisor`. */
  binary: string
  home: string
  launcher: 'binary' | 'cosmovisor'
  /** `node.flags` plus `start --flags`. */
  flags: string
  /** The sidecar's config directory (marks the process as launched by this sidecar). */
  configDir: string
}

/** cosmovisor needs the chain binary's name (DAEMON_NAME) and cannot run without it. */
export class CosmovisorSetupError extends Error {
  override readonly name = 'CosmovisorSetupError'
}

/**
 * The chain binary's name under cosmovisor: `$DAEMON_NAME` when set (as for any cosmovisor setup), else the
 * single file in `<home>/cosmovisor/current/bin/`.
 */
export async function cosmovisorDaemonName(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const fromEnv = env['DAEMON_NAME']?.trim()
  if (fromEnv) return fromEnv
  const binDir = path.join(home, 'cosmovisor', 'current', 'bin')
  let entries: string[]
  try {
    entries = await readdir(binDir)
  } catch {
    throw new CosmovisorSetupError(
      `cosmovisor needs the chain binary's name: set DAEMON_NAME (e.g. DAEMON_NAME=osmosisd), or install the ` +
        `binary under ${binDir}`,
    )
  }
  const binaries = entries.filter((name) => !name.startsWith('.'))
  if (binaries.length !== 1) {
    throw new CosmovisorSetupError(
      `cannot tell the chain binary from ${binDir} (${binaries.length} files: ${binaries.join(', ') || 'none'}); ` +
        'set DAEMON_NAME (e.g. DAEMON_NAME=osmosisd)',
    )
  }
  return binaries[0] as string
}

/** The launcher implied by a binary path: supervysor treated a binary named `cosmovisor` as cosmovisor. */
export function launcherFor(binary: string): 'binary' | 'cosmovisor' {
  return path.basename(binary) === 'cosmovisor' ? 'cosmovisor' : 'binary'
}

/** Builds the command that starts the node in `mode`. */
export async function launchSpecFor(settings: LaunchSettings, mode: NodeMode): Promise<LaunchSpec> {
  const ghostP2pPort = mode === 'ghost' ? await findFreeLoopbackPort() : undefined
  const common = { home: settings.home, flags: settings.flags, mode, ghostP2pPort }
  const command =
    settings.launcher === 'cosmovisor'
      ? buildLaunchCommand({
          ...common,
          launcher: 'cosmovisor',
          binary: await cosmovisorDaemonName(settings.home),
          cosmovisor: settings.binary,
        })
      : buildLaunchCommand({ ...common, launcher: 'binary', binary: settings.binary })
  return {
    command: command.command,
    args: command.args,
    env: { ...command.env, [NODE_MARKER_ENV]: path.resolve(settings.configDir) },
  }
}
