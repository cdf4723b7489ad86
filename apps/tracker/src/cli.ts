#!/usr/bin/env node
/** `ghostfleet-tracker`: the command line. Parsing only; the work is in `start-command.ts`, `status-command.ts`, `status-watch.ts` and `acl-command.ts`. */
import { runAsEntry } from '@ghostfleet/core'
import { Command } from 'commander'
import { type AclFlags, runAcl } from './acl-command.js'
import { TrackerStatusError } from './errors.js'
import { runStart, type StartFlags } from './start-command.js'
import { fetchFleet } from './status-command.js'
import { formatFleetTable } from './status-table.js'
import { watchFleet, watchIntervalSchema } from './status-watch.js'
import { PACKAGE_VERSION } from './version.js'

const program = new Command()
program
  .name('ghostfleet-tracker')
  .description('Watches each KYVE pool once and steers every Ghostfleet sidecar over Redis.')
  .version(PACKAGE_VERSION)

program
  .command('start')
  .description('run the tracker (several may run: one leads, the others stand by)')
  .option('--redis <url>', 'Redis URL (overrides the config file and GHOSTFLEET_REDIS_URL)')
  .option(
    '--config <file>',
    'TOML config file (see README: pollIntervalSeconds, leaseTtlMs, defaults, pools, chains)',
  )
  .option('--listen <host:port>', 'HTTP API address (default 127.0.0.1:26680)')
  .option('--id <name>', 'this tracker’s name in the lease and the consumer group (default <host>-<pid>)')
  .option(
    '--log-level <level>',
    'fatal, error, warn, info, debug, trace or silent (default $GHOSTFLEET_LOG_LEVEL or info)',
  )
  .option(
    '--refresh-seconds <n>',
    're-issue unchanged desired states this often, so sidecars see a live tracker; 0 = off (default 30)',
  )
  .option(
    '--consul <url>',
    'register with this Consul agent and compare its sidecars with Redis (overrides $GHOSTFLEET_CONSUL_URL; token from $GHOSTFLEET_CONSUL_TOKEN)',
  )
  .action(async (flags: StartFlags) => {
    process.exitCode = await runStart(flags)
    // Timers of libraries (a KYVE request being aborted, a reconnect) must not keep a stopped tracker alive.
    process.exit()
  })

program
  .command('status')
  .description('print the fleet as a table (from a tracker’s /v1/fleet)')
  .option('--tracker <url>', 'the tracker’s HTTP API', 'http://127.0.0.1:26680')
  .option('--json', 'print the raw JSON instead of the table')
  .option('--watch', 'refresh the table until Ctrl-C (in place on a terminal, appended otherwise)')
  .option('--interval <seconds>', 'with --watch: seconds between refreshes, 1 to 3600', '2')
  .action(async (flags: { tracker: string; json?: boolean; watch?: boolean; interval: string }) => {
    try {
      if (flags.watch === true) {
        process.exitCode = await runWatch(flags)
        return
      }
      const fleet = await fetchFleet({ trackerUrl: flags.tracker })
      process.stdout.write(
        flags.json === true
          ? `${JSON.stringify(fleet, null, 2)}\n`
          : `${formatFleetTable(fleet, Date.now())}\n`,
      )
    } catch (error) {
      if (!(error instanceof TrackerStatusError)) throw error
      process.stderr.write(`ghostfleet tracker status: ${error.message}\n`)
      process.exitCode = 1
    }
  })

async function runWatch(flags: { tracker: string; json?: boolean; interval: string }): Promise<number> {
  const interval = watchIntervalSchema.safeParse(flags.interval)
  if (!interval.success) {
    const reason = interval.error.issues[0]?.message ?? 'is not valid'
    throw new TrackerStatusError(`--interval ${JSON.stringify(flags.interval)}: ${reason}`)
  }
  if (flags.json === true)
    throw new TrackerStatusError('--watch shows the table; --json is for a single answer')
  if (!URL.canParse(flags.tracker))
    throw new TrackerStatusError(`--tracker ${JSON.stringify(flags.tracker)} is not a URL`)
  const stop = new AbortController()
  const onStop = () => stop.abort()
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const signal of signals) process.once(signal, onStop)
  // The reader went away (`| head`, a closed pipe): nothing more to show.
  process.stdout.on('error', onStop)
  try {
    await watchFleet({
      trackerUrl: flags.tracker,
      intervalSeconds: interval.data,
      write: (text) => {
        if (!stop.signal.aborted) process.stdout.write(text)
      },
      tty: process.stdout.isTTY === true,
      columns: () => process.stdout.columns,
      signal: stop.signal,
    })
  } finally {
    for (const signal of signals) process.off(signal, onStop)
  }
  return 0
}

program
  .command('acl')
  .description(
    'print ACL SETUSER commands for a Redis user per role: the tracker, each sidecar (its own keys only), a monitor',
  )
  .option('--sidecar <id...>', 'a sidecar id (repeatable): user gf-sidecar-<id>')
  .option('--monitor', 'also a read-only monitoring user (gf-monitor)')
  .option('--no-tracker', 'leave the tracker user (gf-tracker) out')
  .option('--namespace <name>', 'the key namespace the fleet uses', 'gf')
  .option('--passwords <file>', '"<user> <password>" lines; users not listed get a generated password')
  .option('--write-passwords <file>', 'write generated passwords to this new file (0600) instead of stderr')
  .action(async (flags: AclFlags) => {
    process.exitCode = await runAcl(flags, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    })
  })

/** Runs the command line on `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], name = 'ghostfleet-tracker'): Promise<number> {
  program.name(name)
  await program.parseAsync(argv, { from: 'user' })
  return Number(process.exitCode ?? 0)
}

runAsEntry(main)
