import { parseListenAddress } from '@ghostfleet/core'
import { Command, Option } from 'commander'
import { z } from 'zod'
import type { LogEntry } from './log.js'
import type { KyveSimulatorOptions } from './options.js'
import { RUNTIMES } from './runtime-keys.js'
import { startKyveSimulator } from './simulator.js'

/*
 * `ghostfleet-devnet kyve`: the simulated KYVE REST API as a process. Logs are JSON lines on stdout; SIGTERM or
 * SIGINT stops it cleanly (exit 0); bad flags exit 1 with a message naming the flag.
 */

const decimal = (flag: string) =>
  z
    .string()
    .regex(/^(?:0|[1-9][0-9]*)$/, `${flag} expects a non-negative whole number`)
    .transform(Number)

const flagsSchema = z.object({
  listen: z.string().transform((text, ctx) => {
    // `:port` means every interface, as Go servers read it.
    const address = parseListenAddress(text.startsWith(':') ? `0.0.0.0${text}` : text)
    if (address === null) {
      ctx.addIssue({
        code: 'custom',
        message: `--listen expects host:port, [ipv6]:port or :port, got "${text}"`,
      })
      return z.NEVER
    }
    return address
  }),
  chainRpc: z.url({ protocol: /^https?$/, error: '--chain-rpc expects an http:// or https:// URL' }),
  poolId: z
    .array(z.string().regex(/^(?:0|[1-9][0-9]{0,19})$/, '--pool-id expects a pool id (a uint64 in decimal)'))
    .min(1, '--pool-id is required (repeat it for more pools)'),
  chainId: z.string().min(1),
  maxBundleSize: decimal('--max-bundle-size'),
  uploadInterval: decimal('--upload-interval'),
  bundleEveryMs: decimal('--bundle-every-ms').optional(),
  startKey: z.string().optional(),
  runtime: z.enum(RUNTIMES),
  apiVersion: z.enum(['1.4', '1.5']),
  lagBlocks: decimal('--lag-blocks'),
  sourceChainId: z.string().min(1),
  snapshotInterval: decimal('--snapshot-interval'),
  snapshotChunks: decimal('--snapshot-chunks'),
})

/** Turns the parsed flags into simulator options. @throws Error naming the bad flag. */
export function kyveOptionsFromFlags(flags: Record<string, unknown>): KyveSimulatorOptions {
  const parsed = flagsSchema.safeParse(flags)
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('; '))
  const f = parsed.data
  return {
    host: f.listen.host,
    port: f.listen.port,
    chainId: f.chainId,
    apiVersion: f.apiVersion,
    chainRpc: f.chainRpc,
    runtime: f.runtime,
    maxBundleSize: f.maxBundleSize,
    uploadInterval: f.uploadInterval,
    bundleEveryMs: f.bundleEveryMs,
    lagBlocks: f.lagBlocks,
    sourceChainId: f.sourceChainId,
    snapshotInterval: f.snapshotInterval,
    snapshotChunks: f.snapshotChunks,
    pools: f.poolId.map((id) => ({ id, startKey: f.startKey })),
  }
}

function printLog(entry: LogEntry): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
}

/** The `kyve` subcommand of `ghostfleet-devnet`. */
export function kyveCommand(): Command {
  return new Command('kyve')
    .description(
      'serve a simulated KYVE REST API (pool, pools, bundles routes) whose pools advance with a chain node, ' +
        'plus an admin API under /admin/ for faults, pool control and request counts',
    )
    .option('--listen <addr>', 'listen address (host:port, [ipv6]:port or :port)', '127.0.0.1:1317')
    .requiredOption(
      '--chain-rpc <url>',
      'CometBFT RPC of the data-source node (its /abci_info height bounds bundles)',
    )
    .option(
      '--pool-id <id>',
      'a pool to simulate (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--chain-id <id>', 'KYVE chain id', 'kyve-1')
    .option('--max-bundle-size <n>', 'max_bundle_size of the pools', '100')
    .option('--upload-interval <seconds>', 'upload_interval of the pools', '60')
    .option('--bundle-every-ms <ms>', 'milliseconds between bundle rounds (default: upload interval)')
    .option('--start-key <key>', 'start_key of the pools (default: 1, ssync: <snapshot-interval>/0)')
    .addOption(new Option('--runtime <name>', 'pool runtime').choices(RUNTIMES).default('@kyvejs/tendermint'))
    .addOption(
      new Option('--api-version <version>', 'KYVE chain release to imitate')
        .choices(['1.4', '1.5'])
        .default('1.5'),
    )
    .option('--lag-blocks <n>', 'bundles stop this many blocks below the node height', '0')
    .option('--source-chain-id <id>', 'network in the pool config', 'osmosis-1')
    .option('--snapshot-interval <blocks>', 'ssync pools: blocks between snapshots', '1000')
    .option('--snapshot-chunks <n>', 'ssync pools: chunks per snapshot', '3')
    .action(async (flags: Record<string, unknown>, command: Command) => {
      let options: KyveSimulatorOptions
      try {
        options = kyveOptionsFromFlags(flags)
      } catch (error) {
        command.error(`error: ${error instanceof Error ? error.message : String(error)}`)
      }
      let simulator: Awaited<ReturnType<typeof startKyveSimulator>>
      try {
        simulator = await startKyveSimulator({ ...options, log: printLog })
      } catch (error) {
        command.error(`error: ${error instanceof Error ? error.message : String(error)}`)
      }
      await new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          printLog({ level: 'info', msg: 'stopping', signal })
          process.off('SIGTERM', onSignal)
          process.off('SIGINT', onSignal)
          resolve()
        }
        process.on('SIGTERM', onSignal)
        process.on('SIGINT', onSignal)
      })
      await simulator.stop()
    })
}
