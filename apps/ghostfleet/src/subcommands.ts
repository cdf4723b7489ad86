import type { CliMain } from '@ghostfleet/core'

/** One subcommand of `ghostfleet`: its one-line summary and its CLI, loaded only when it runs. */
export interface Subcommand {
  readonly summary: string
  readonly load: () => Promise<CliMain>
}

// Dynamic imports: `ghostfleet tracker …` does not load the sidecar's modules (start-up time, memory), and a
// bundler still sees every import as a literal.
export const SUBCOMMANDS = {
  sidecar: {
    summary: 'supervise one KYVE data-source node: init | start | prune | backup | status | version',
    load: async () => (await import('@ghostfleet/sidecar/cli')).main,
  },
  tracker: {
    summary: 'watch each KYVE pool and steer the fleet over Redis: start | status | acl',
    load: async () => (await import('@ghostfleet/tracker/cli')).main,
  },
  devnet: {
    summary:
      'local devnet: kyve (simulated KYVE REST API) | up (a whole local fleet) | simnode (simulated node)',
    load: async () => (await import('@ghostfleet/devnet/cli')).main,
  },
} as const satisfies Record<string, Subcommand>

export type SubcommandName = keyof typeof SUBCOMMANDS

/**
 * The old executables, kept so that existing units and scripts keep working: each runs its CLI under its old
 * name (`ghostfleet-sidecar start` is `ghostfleet sidecar start`; `ghostfleet-simnode` is
 * `ghostfleet devnet simnode`).
 */
export const ALIASES = {
  'ghostfleet-sidecar': SUBCOMMANDS.sidecar.load,
  'ghostfleet-tracker': SUBCOMMANDS.tracker.load,
  'ghostfleet-devnet': SUBCOMMANDS.devnet.load,
  'ghostfleet-simnode': async () => (await import('@ghostfleet/devnet/simnode-cli')).main,
} as const satisfies Record<string, () => Promise<CliMain>>

export type AliasName = keyof typeof ALIASES

export function isSubcommand(word: string): word is SubcommandName {
  return Object.hasOwn(SUBCOMMANDS, word)
}

export function isAlias(name: string): name is AliasName {
  return Object.hasOwn(ALIASES, name)
}
