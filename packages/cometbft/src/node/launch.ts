import net from 'node:net'
import path from 'node:path'
import { LaunchOptionsError } from './errors.js'
import { splitShellWords } from './shell-words.js'

/*
 * The command line that starts the node, directly or under cosmovisor, in normal or ghost mode.
 *
 * Ghost mode is stricter than supervysor's: besides `--p2p.seeds " "` and a fresh listen address it also
 * clears `persistent_peers` and turns PEX off (supervysor left persistent peers in place, so a node with
 * configured peers kept syncing), and it listens on loopback only so nobody can
 * dial in either. `" "` rather than `""` is what CometBFT's splitAndTrimEmpty reduces to "no entries" and what
 * KYVE uses; it also survives any layer that treats an empty value as "not set".
 */

/** Options for {@link buildLaunchCommand}. */
export interface LaunchOptions {
  /** The chain binary, e.g. `osmosisd` (looked up on PATH) or `/usr/local/bin/osmosisd`. */
  binary: string
  /** The node home (`--home`). */
  home: string
  /** Run the binary directly, or through cosmovisor (`cosmovisor run start …`). */
  launcher: 'binary' | 'cosmovisor'
  /**
   * Extra flags passed through to `start`, written as on a shell command line
   * (e.g. `--x-crisis-skip-assert-invariants --log_level info`). Quotes and backslashes work as in `sh`;
   * nothing is expanded (`$VAR`, `~` and globs stay literal) because no shell is involved.
   */
  flags: string
  mode: 'normal' | 'ghost'
  /** Loopback P2P port for ghost mode (see {@link findFreeLoopbackPort}). Required in ghost mode. */
  ghostP2pPort?: number
  /**
   * The cosmovisor executable when `launcher` is `cosmovisor`.
   * @default 'cosmovisor' (looked up on PATH)
   */
  cosmovisor?: string
}

/** A command ready for `child_process.spawn(command, args, { env: { ...process.env, ...env } })`. */
export interface LaunchCommand {
  command: string
  args: string[]
  /** Variables to add to the inherited environment (cosmovisor's configuration). */
  env: Record<string, string>
}

/** The four settings ghost mode owns; pass-through flags for them are dropped in ghost mode. */
const GHOST_FLAG_NAMES = ['p2p.seeds', 'p2p.persistent_peers', 'p2p.laddr', 'p2p.pex'] as const

/** pflag boolean flags take no separate value argument (`--p2p.pex false` is `--p2p.pex` plus `false`). */
const BOOLEAN_FLAGS = new Set<string>(['p2p.pex'])

/**
 * Flag names compared with `-` and `_` treated alike, so `--p2p.persistent-peers` is also recognised as a
 * ghost-owned flag: dropping a spelling the node would reject anyway is harmless, keeping one that it accepts
 * would let the node find peers.
 */
function canonicalFlagName(name: string): string {
  return name.replaceAll('-', '_')
}

const GHOST_CANONICAL = new Set<string>(GHOST_FLAG_NAMES.map(canonicalFlagName))

/** Splits `--name=value` / `--name` into the flag name and inline value; undefined for non-flags. */
function parseLongFlag(arg: string): { name: string; inlineValue: string | undefined } | undefined {
  if (!arg.startsWith('--') || arg === '--') return undefined
  const eq = arg.indexOf('=')
  if (eq === -1) return { name: arg.slice(2), inlineValue: undefined }
  return { name: arg.slice(2, eq), inlineValue: arg.slice(eq + 1) }
}

/** Removes the ghost-owned flags (both `--x=v` and `--x v` forms) from a flag list, stopping at `--`. */
function withoutGhostFlags(args: readonly string[]): string[] {
  const kept: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const flag = parseLongFlag(arg)
    if (flag === undefined || !GHOST_CANONICAL.has(canonicalFlagName(flag.name))) {
      kept.push(arg)
      continue
    }
    const takesSeparateValue =
      flag.inlineValue === undefined && !BOOLEAN_FLAGS.has(canonicalFlagName(flag.name))
    if (takesSeparateValue && i + 1 < args.length) i++
  }
  return kept
}

function checkNoHomeFlag(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === '--') return
    const flag = parseLongFlag(arg)
    if (flag?.name === 'home') {
      // The sidecar edits app.toml and the address book of `home`; a different --home would make it edit one
      // node's files while another node runs.
      throw new LaunchOptionsError(`flags must not contain --home (use the home option instead): ${arg}`)
    }
  }
}

/**
 * Builds the command that starts the node.
 *
 * - binary: `<binary> start --home <home> <flags…>`
 * - cosmovisor: `cosmovisor run start --home <home> <flags…>` with `DAEMON_HOME=<home>` and
 *   `DAEMON_NAME=<basename of binary>` (cosmovisor runs `$DAEMON_HOME/cosmovisor/current/bin/$DAEMON_NAME`).
 * - ghost mode adds `--p2p.seeds " " --p2p.persistent_peers " " --p2p.laddr tcp://127.0.0.1:<ghostP2pPort>
 *   --p2p.pex=false` and drops any pass-through flag for those four settings. Normal mode passes the flags
 *   through untouched and leaves seeds and peers to config.toml.
 *
 * @example
 * ```ts
 * const port = await findFreeLoopbackPort()
 * const { command, args, env } = buildLaunchCommand({
 *   binary: 'osmosisd', home: '/data/osmosis', launcher: 'cosmovisor',
 *   flags: '--log_level info', mode: 'ghost', ghostP2pPort: port,
 * })
 * spawn(command, args, { env: { ...process.env, ...env } })
 * ```
 * @throws {@link LaunchOptionsError} on unbalanced quotes, a `--home` in `flags`, or a missing/invalid
 * ghost port.
 */
export function buildLaunchCommand(options: LaunchOptions): LaunchCommand {
  if (options.binary.trim() === '') throw new LaunchOptionsError('binary is empty')
  if (options.home.trim() === '') throw new LaunchOptionsError('home is empty')
  let passThrough: string[]
  try {
    passThrough = splitShellWords(options.flags)
  } catch (error) {
    throw new LaunchOptionsError(error instanceof Error ? error.message : String(error))
  }
  checkNoHomeFlag(passThrough)

  const separator = passThrough.indexOf('--')
  const flags = separator === -1 ? passThrough : passThrough.slice(0, separator)
  const positional = separator === -1 ? [] : passThrough.slice(separator)

  let startArgs: string[]
  if (options.mode === 'ghost') {
    const port = options.ghostP2pPort
    if (port === undefined) throw new LaunchOptionsError('ghost mode needs ghostP2pPort')
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new LaunchOptionsError(`ghostP2pPort must be an integer in 1..65535, got ${port}`)
    }
    // Ghost flags go before a `--`, after which pflag would treat them as positional arguments.
    startArgs = [
      ...withoutGhostFlags(flags),
      '--p2p.seeds',
      ' ',
      '--p2p.persistent_peers',
      ' ',
      '--p2p.laddr',
      `tcp://127.0.0.1:${port}`,
      '--p2p.pex=false',
      ...positional,
    ]
  } else {
    startArgs = passThrough
  }

  const common = ['start', '--home', options.home, ...startArgs]
  if (options.launcher === 'cosmovisor') {
    const daemonName = path.basename(options.binary)
    return {
      command: options.cosmovisor ?? 'cosmovisor',
      args: ['run', ...common],
      env: { DAEMON_HOME: options.home, DAEMON_NAME: daemonName },
    }
  }
  return { command: options.binary, args: common, env: {} }
}

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 (bind to port 0, read it, close). Another process may take
 * the port before the node binds it; the node then fails to start and the caller picks a new port.
 */
export async function findFreeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error('findFreeLoopbackPort: the server has no TCP address'))
        return
      }
      server.close((error) => (error ? reject(error) : resolve(address.port)))
    })
  })
}
