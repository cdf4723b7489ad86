#!/usr/bin/env node
import { markDispatched, runAsEntry } from '@ghostfleet/core'
import { Command } from 'commander'
import { upCommand } from './fleet/up-command.js'
import { kyveCommand } from './kyve-sim/kyve-command.js'

/*
 * `ghostfleet-devnet`: the local devnet's tools as subcommands. `kyve` serves the simulated KYVE REST API;
 * `up` starts a whole local fleet (the demo); `simnode` is the simulated node's own command line
 * (`ghostfleet-simnode`), loaded only when asked for.
 */

const program = new Command('ghostfleet-devnet')
  .description('Ghostfleet local devnet: simulated KYVE REST API and local fleet tools')
  .showHelpAfterError()
  .addCommand(kyveCommand())
  .addCommand(upCommand())

// Listed in the help; `main` hands its arguments over before commander parses them, so the node's own flags
// (`--p2p.laddr`, `--help`) reach the simulated node's parser untouched.
program
  .command('simnode')
  .description('the simulated CometBFT node: init | start | generate | show-node-id (see `simnode --help`)')
  .helpOption(false)

/** Runs the command line on `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], name = 'ghostfleet-devnet'): Promise<number> {
  if (argv[0] === 'simnode') {
    markDispatched()
    const simnode = await import('./simnode-cli.js')
    return await simnode.main(argv.slice(1), `${name} simnode`)
  }
  program.name(name)
  await program.parseAsync(argv, { from: 'user' })
  return Number(process.exitCode ?? 0)
}

runAsEntry(main)
