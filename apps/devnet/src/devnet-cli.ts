#!/usr/bin/env node
import { Command } from 'commander'
import { kyveCommand } from './kyve-sim/kyve-command.js'

/*
 * `ghostfleet-devnet`: the local devnet's tools as subcommands. `kyve` serves the simulated KYVE REST API;
 * further subcommands (such as `up` for a whole local fleet) hang off the same program.
 */

const program = new Command('ghostfleet-devnet')
  .description('Ghostfleet local devnet: simulated KYVE REST API and local fleet tools')
  .showHelpAfterError()
  .addCommand(kyveCommand())

await program.parseAsync(process.argv)
