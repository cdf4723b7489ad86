#!/usr/bin/env node
/**
 * `ghostfleet-sidecar`: init | start | bootstrap | prune | backup | status | version. Thin: flags are parsed here, the work
 * is in `commands/`. See README.md for every command and flag.
 */
import { runAsEntry } from '@ghostfleet/core'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { runBackup } from './commands/backup.js'
import { parseDurationFlag, runBootstrapCommand } from './commands/bootstrap.js'
import { runInit } from './commands/init.js'
import { PRUNE_EXIT, runPrune } from './commands/prune.js'
import { runStart } from './commands/start.js'
import { runStatus } from './commands/status.js'
import { COMPRESSIONS, type Compression } from './storage/backup.js'
import { SIDECAR_VERSION } from './version.js'

const output = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
}

function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`)
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${value}`)
    }
    return n
  }
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${name} must be a number > 0, got "${value}"`)
    }
    return n
  }
}

/** `--flag`, `--flag=true|false`, `--flag false` (supervysor's Go booleans accept the same spellings). */
function boolean(name: string) {
  return (value: string | undefined): boolean => {
    if (value === undefined) return true
    const v = value.trim().toLowerCase()
    if (['true', '1', 't', 'yes'].includes(v)) return true
    if (['false', '0', 'f', 'no'].includes(v)) return false
    throw new InvalidArgumentError(`${name} must be true or false, got "${value}"`)
  }
}

function urlList(value: string, previous: string[] | undefined): string[] {
  const list = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  return [...(previous ?? []), ...list]
}

const program = new Command('ghostfleet-sidecar')
  .description('Supervises one KYVE data-source node: ghost mode, safe pruning, health and metrics.')
  .version(SIDECAR_VERSION, '--version', 'print the version')
  .showHelpAfterError()
  .exitOverride()

program
  .command('init')
  .description('check the node and the pool, set app.toml pruning and write the sidecar config')
  .option('--binary <path>', 'the chain binary (e.g. /root/go/bin/osmosisd) or cosmovisor')
  .option('--home <dir>', 'the node home (e.g. /root/.osmosisd)')
  .option('--pool-id <n>', 'KYVE pool id', integer('--pool-id', 0))
  .option('--seeds <list>', 'seeds for normal mode (id@host:port,…); default: the node config.toml seeds')
  .option('--chain-id <id>', 'KYVE chain id (kyve-1, kaon-1, korellia-2) [default: kyve-1]')
  .option(
    '--fallback-endpoints <urls>',
    'KYVE REST endpoints to use instead of the presets (comma-separated)',
    urlList,
  )
  .addOption(new Option('--endpoints <urls>', 'alias of --fallback-endpoints').argParser(urlList))
  .option(
    '--pruning-interval <hours>',
    'hours between prunes [default: 24]',
    positiveNumber('--pruning-interval'),
  )
  .option('--state-pruning [bool]', 'prune state.db too [default: true]', boolean('--state-pruning'))
  .option(
    '--no-pruning',
    'run ghost mode and mode switching without offline pruning (pruning.enabled = false); required when the ' +
      "node's db_backend is not goleveldb (pebbledb, rocksdb, …)",
  )
  .option(
    '--metrics [bool]',
    'serve /metrics (and /livez, /readyz, /status) on loopback [default: true]',
    boolean('--metrics'),
  )
  .option(
    '--metrics-port <port>',
    'port of that HTTP server [default: 26670]',
    integer('--metrics-port', 1, 65_535),
  )
  .option('--abci-endpoint <url>', "the node's RPC [default: from its config.toml rpc.laddr]")
  .option('--config <dir>', 'config directory [default: ~/.ghostfleet]')
  .option('--cosmovisor', 'the binary is cosmovisor (implied when it is named cosmovisor)')
  .option('--flags <flags>', 'extra flags for the node, on every start (quoted like a shell)')
  .option('--force', 'overwrite an existing config')
  .option('--from-supervysor <file>', 'import an existing supervysor config.toml (flags given here win)')
  .action(async (o: Record<string, unknown>) => {
    const endpoints = [
      ...((o['fallbackEndpoints'] as string[]) ?? []),
      ...((o['endpoints'] as string[]) ?? []),
    ]
    const hours = o['pruningInterval'] as number | undefined
    if (hours !== undefined && hours < 6) {
      output.err(
        `warning: --pruning-interval ${hours} h is short: each prune restarts the node; supervysor recommended ≥ 6 h`,
      )
    }
    process.exitCode = await runInit(
      {
        inputs: {
          binary: o['binary'] as string | undefined,
          home: o['home'] as string | undefined,
          poolId: o['poolId'] as number | undefined,
          seeds: o['seeds'] as string | undefined,
          chainId: o['chainId'] as string | undefined,
          endpoints: endpoints.length > 0 ? endpoints : undefined,
          pruningIntervalHours: hours,
          pruningEnabled: o['pruning'] === false ? false : undefined,
          statePruning: o['statePruning'] as boolean | undefined,
          httpEnabled: o['metrics'] as boolean | undefined,
          httpPort: o['metricsPort'] as number | undefined,
          rpcEndpoint: o['abciEndpoint'] as string | undefined,
          launcher: o['cosmovisor'] === true ? 'cosmovisor' : undefined,
        },
        flags: o['flags'] as string | undefined,
        config: o['config'] as string | undefined,
        force: o['force'] === true,
        fromSupervysor: o['fromSupervysor'] as string | undefined,
      },
      output,
    )
  })

program
  .command('start')
  .description('launch the node and supervise it until SIGTERM/SIGINT')
  .option('--config <dir>', 'config directory [default: ~/.ghostfleet]')
  .option('--flags <flags>', 'extra flags for the node, added after node.flags of the config')
  .option('--redis <url>', 'Redis URL: fleet mode (wins over GHOSTFLEET_REDIS_URL and fleet.redisUrl)')
  .option('--consul <url>', 'register with this Consul agent (wins over GHOSTFLEET_CONSUL_URL)')
  .action(async (o: { config?: string; flags?: string; redis?: string; consul?: string }) => {
    process.exitCode = await runStart(o)
  })

program
  .command('bootstrap')
  .description(
    "fill this empty node home with a sibling's checkpoint (the tracker picks the donor), check the node serves " +
      "the donor's blocks, then run start",
  )
  .option('--config <dir>', 'config directory, as for start [default: ~/.ghostfleet]')
  .option('--tracker-url <url>', "the tracker's peer listener [default: GHOSTFLEET_TRACKER_URL]")
  .option('--force', 'replace a data directory that already holds data', false)
  .option(
    '--parallel <n>',
    'files transferred at once (connections to the donor)',
    integer('--parallel', 1, 64),
    4,
  )
  .option(
    '--timeout <duration>',
    'how long to wait for the checkpoint, and for the node to serve (90s, 30m, 2h) [default: 30m]',
    (value: string) => {
      try {
        return parseDurationFlag(value)
      } catch (error) {
        throw new InvalidArgumentError(`--timeout: ${(error as Error).message}`)
      }
    },
  )
  .option(
    '--download-dir <dir>',
    'where the download goes [default: beside the home, <home>-ghostfleet-bootstrap]',
  )
  .option('--no-start', 'stop after the check instead of running start')
  .action(
    async (o: {
      config?: string
      trackerUrl?: string
      force: boolean
      parallel: number
      timeout?: number
      start: boolean
      downloadDir?: string
    }) => {
      process.exitCode = await runBootstrapCommand(
        {
          ...(o.config === undefined ? {} : { config: o.config }),
          ...(o.trackerUrl === undefined ? {} : { trackerUrl: o.trackerUrl }),
          ...(o.downloadDir === undefined ? {} : { downloadDir: o.downloadDir }),
          force: o.force,
          parallel: o.parallel,
          timeoutMs: o.timeout ?? 1_800_000,
          start: o.start,
        },
        output,
      )
    },
  )

program
  .command('prune')
  .description('prune a stopped node offline: delete blocks and states below --until-height')
  .requiredOption('--home <dir>', 'the node home')
  .requiredOption(
    '--until-height <h>',
    'keep this height and everything above it',
    integer('--until-height', 1),
  )
  .option('--state-pruning [bool]', 'prune state.db too', boolean('--state-pruning'), true)
  .option('--force-compact', 'compact the databases afterwards, returning the space to the disk', false)
  .option('--pool-id <n>', 'check --until-height against this KYVE pool', integer('--pool-id', 0))
  .option('--chain-id <id>', 'KYVE chain id of --pool-id [default: kyve-1]')
  .option('--fallback-endpoints <urls>', 'KYVE REST endpoints for --pool-id, comma-separated', urlList)
  .option('--config <dir>', 'the sidecar config of this home, for its pool [default: ~/.ghostfleet]')
  .option('--force', 'prune even when the pool cannot be asked (you vouch for --until-height)', false)
  .action(
    async (o: {
      home: string
      untilHeight: number
      statePruning: boolean
      forceCompact: boolean
      poolId?: number
      chainId?: string
      fallbackEndpoints?: string[]
      config?: string
      force: boolean
    }) => {
      process.exitCode = await runPrune(
        {
          home: o.home,
          untilHeight: o.untilHeight,
          statePruning: o.statePruning,
          forceCompact: o.forceCompact,
          pool: {
            ...(o.poolId === undefined ? {} : { poolId: o.poolId }),
            ...(o.chainId === undefined ? {} : { chainId: o.chainId }),
            ...(o.fallbackEndpoints === undefined ? {} : { endpoints: o.fallbackEndpoints }),
            ...(o.config === undefined ? {} : { config: o.config }),
            force: o.force,
          },
        },
        output,
      )
    },
  )

program
  .command('backup')
  .description("copy a stopped node's data directory, named by its block height")
  .requiredOption('--home <dir>', 'the node home')
  .option('--dest-path <dir>', 'where backups go [default: <config>/backups]')
  .option('--config <dir>', 'config directory, for the default destination [default: ~/.ghostfleet]')
  .addOption(
    new Option('--compression <kind>', 'tar.gz (system tar), zip (system zip) or none (a directory copy)')
      .choices([...COMPRESSIONS])
      .default('none'),
  )
  .option(
    '--max-backups <n>',
    'keep this many backups, by height; 0 keeps all',
    integer('--max-backups', 0),
    0,
  )
  .action(
    async (o: {
      home: string
      destPath?: string
      config?: string
      compression: Compression
      maxBackups: number
    }) => {
      process.exitCode = await runBackup(o, output)
    },
  )

program
  .command('status')
  .description('node height, pool height, thresholds, mode, data size, last prune')
  .option('--config <dir>', 'config directory [default: ~/.ghostfleet]')
  .option('--json', 'print JSON', false)
  .action(async (o: { config?: string; json: boolean }) => {
    process.exitCode = await runStatus(o, output)
  })

program
  .command('version')
  .description('print the version')
  .action(() => {
    output.out(SIDECAR_VERSION)
  })

/** Runs the command line on `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], name = 'ghostfleet-sidecar'): Promise<number> {
  program.name(name)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return Number(process.exitCode ?? 0)
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with exit 0; any usage error with 2 (commander already printed it).
      return error.exitCode === 0 ? 0 : PRUNE_EXIT.usage
    }
    output.err(
      `${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
    return 1
  }
}

runAsEntry(main)
