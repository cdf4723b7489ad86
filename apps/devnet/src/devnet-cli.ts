#!/usr/bin/env node
import { Command } from 'commander'
import { upCommand } from './fleet/up-command.js'
import { kyveCommand } from './kyve-sim/kyve-command.js'

/*
 * `ghostfleet-devnet`: the local devnet's tools as subcommands. `kyve` serves the simulated KYVE REST API;
 * `up` starts a whole local fleet (the demo).
 */

const program = new Command('ghostfleet-devnet')
  .description('Ghostfleet local devnet: simulated KYVE REST API and local fleet tools')
  .showHelpAfterError()
  .addCommand(kyveCommand())
  .addCommand(upCommand())

await program.parseAsync(process.argv)
