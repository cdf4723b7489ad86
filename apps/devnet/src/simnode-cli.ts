#!/usr/bin/env node
/**
 * `ghostfleet-simnode`: init | start | generate | show-node-id. See src/simnode/README.md.
 */
import { runAsEntry } from '@ghostfleet/core'
import { Command, Option } from 'commander'
import { generateChain } from './simnode/generate.js'
import { defaultLayout } from './simnode/home.js'
import { initHome } from './simnode/init.js'
import { readNodeKey } from './simnode/keys.js'
import { SimNode } from './simnode/node.js'
import type { StartFlags } from './simnode/start-options.js'

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}

function intArg(value: string, name: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) fail(`--${name}: expected an integer, got "${value}"`)
  return n
}

/** The flags that shape the blocks made, shared by `start --producer` and `generate`. */
function withBlockContentOptions(command: Command, appliesTo: string): Command {
  return command
    .option('--block-time <ms>', `milliseconds between blocks${appliesTo}`, '1000')
    .option('--block-txs <n>', `transactions per block${appliesTo}`, '5')
    .option('--tx-size <bytes>', `bytes per transaction${appliesTo}`, '256')
    .option('--part-size <bytes>', 'block part size (CometBFT: 65536)', '65536')
    .option('--valset-interval <n>', `change the validator set every n heights, 0 = never${appliesTo}`, '100')
}

const program = new Command('ghostfleet-simnode')
  .description('A simulated CometBFT v0.37 node (Osmosis-like full node) for Ghostfleet tests and demos.')
  .showHelpAfterError()

program
  .command('init')
  .description('create a node home (config/, data/) like `<appd> init`; refuses an existing home')
  .requiredOption('--home <dir>', 'node home directory')
  .requiredOption('--chain-id <id>', 'chain id (the genesis depends on it alone)')
  .option('--moniker <name>', 'node moniker', 'simnode')
  .action(async (o: { home: string; chainId: string; moniker: string }) => {
    const r = await initHome({ home: o.home, chainId: o.chainId, moniker: o.moniker })
    process.stdout.write(`${JSON.stringify({ home: r.home, chain_id: r.chainId, node_id: r.nodeId })}\n`)
  })

program
  .command('show-node-id')
  .description('print the node id of a home (like `cometbft show-node-id`)')
  .requiredOption('--home <dir>', 'node home directory')
  .action(async (o: { home: string }) => {
    const key = await readNodeKey(defaultLayout(o.home).nodeKey)
    process.stdout.write(`${key.nodeId}\n`)
  })

withBlockContentOptions(
  program
    .command('start')
    .description('run the node until SIGTERM/SIGINT')
    .requiredOption('--home <dir>', 'node home directory')
    .option('--p2p.seeds <list>', 'comma-separated id@host:port seed nodes (" " = none)')
    .option('--p2p.persistent_peers <list>', 'comma-separated id@host:port persistent peers (" " = none)')
    .option('--p2p.laddr <addr>', 'p2p listen address, e.g. tcp://127.0.0.1:26656')
    .option('--p2p.pex [bool]', 'enable the peer-exchange reactor (--p2p.pex=false or --p2p.pex false)')
    .option(
      '--p2p.seed_mode [bool]',
      'seed mode: answer PEX requests of inbound peers once, then disconnect them',
    )
    .option('--p2p.external-address <addr>', 'address to advertise to peers (host:port)')
    .option('--p2p.private_peer_ids <ids>', 'comma-separated peer ids never gossiped')
    .option('--rpc.laddr <addr>', 'RPC listen address, e.g. tcp://127.0.0.1:26657')
    .option('--moniker <name>', 'node moniker (overrides config.toml)')
    .option('--producer', "produce blocks (the chain's validator); otherwise sync from peers"),
  ' (producer)',
)
  .option('--shutdown-delay <ms>', 'wait this long after SIGTERM/SIGINT before shutting down (a slow node)')
  .option('--crash-after <ms>', 'exit with code 1 after this long (crash-loop tests)')
  .option('--sync-rate <blocks/s>', 'cap on blocks synced per second')
  .option('--addrbook-flush-ms <ms>', 'address book save interval (CometBFT: 120000)')
  .addOption(new Option('--log-level <level>', 'debug | info | error | none'))
  .addOption(new Option('--log_level <level>', 'same as --log-level (CometBFT spelling)').hideHelp())
  .addOption(new Option('--log-format <format>', 'plain | json'))
  .addOption(new Option('--log_format <format>', 'same as --log-format (CometBFT spelling)').hideHelp())
  .action(async (o: Record<string, string | boolean | undefined>) => {
    const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined)
    const flags: StartFlags = {
      home: String(o['home']),
      'p2p.seeds': str('p2p.seeds'),
      'p2p.persistent_peers': str('p2p.persistent_peers'),
      'p2p.laddr': str('p2p.laddr'),
      'p2p.pex': o['p2p.pex'] as string | boolean | undefined,
      'p2p.seed_mode': o['p2p.seed_mode'] as string | boolean | undefined,
      'p2p.external-address': str('p2p.externalAddress'),
      'p2p.private_peer_ids': str('p2p.private_peer_ids'),
      'rpc.laddr': str('rpc.laddr'),
      moniker: str('moniker'),
      producer: o['producer'] === true,
      blockTime: str('blockTime'),
      blockTxs: str('blockTxs'),
      txSize: str('txSize'),
      partSize: str('partSize'),
      valsetInterval: str('valsetInterval'),
      shutdownDelay: str('shutdownDelay'),
      crashAfter: str('crashAfter'),
      syncRate: str('syncRate'),
      addrbookFlushMs: str('addrbookFlushMs'),
      logLevel: str('logLevel') ?? str('log_level'),
      logFormat: str('logFormat') ?? str('log_format'),
    }
    let node: SimNode | undefined
    let signalled: NodeJS.Signals | undefined
    const shutdown = (signal: NodeJS.Signals) => {
      if (signalled) return
      signalled = signal
      if (!node) return // still starting: stopped right after start completes
      const delay = node.settings.shutdownDelayMs
      node.log.info('Received signal, shutting down', { signal, delay_ms: delay })
      const current = node
      setTimeout(() => {
        current.stop().then(
          () => process.exit(0),
          (error: unknown) => fail(error),
        )
      }, delay)
    }
    process.on('SIGTERM', shutdown)
    process.on('SIGINT', shutdown)
    node = await SimNode.start({
      flags,
      out: process.stdout,
      onFatal: (error) => fail(error),
    })
    const crashAfter = node.settings.crashAfterMs
    if (crashAfter !== undefined) {
      setTimeout(() => {
        process.stderr.write(`simulated crash after ${crashAfter} ms\n`)
        process.exit(1)
      }, crashAfter)
    }
    if (signalled) {
      const s = signalled
      signalled = undefined
      shutdown(s)
    }
  })

withBlockContentOptions(
  program
    .command('generate')
    .description("append N synthetic blocks to a home's store, fast (the node must be stopped)")
    .requiredOption(
      '--home <dir>',
      'node home directory (initialised if missing, then --chain-id is required)',
    )
    .requiredOption('--blocks <n>', 'number of blocks to append')
    .option('--chain-id <id>', 'chain id (required for a new home; checked against an existing one)'),
  '',
)
  .option('--batch <n>', 'blocks per LevelDB batch', '2000')
  .action(
    async (o: {
      home: string
      blocks: string
      chainId?: string
      partSize: string
      blockTxs: string
      txSize: string
      blockTime: string
      valsetInterval: string
      batch: string
    }) => {
      const r = await generateChain({
        home: o.home,
        blocks: intArg(o.blocks, 'blocks'),
        chainId: o.chainId,
        partSize: intArg(o.partSize, 'part-size'),
        blockTxs: intArg(o.blockTxs, 'block-txs'),
        txSize: intArg(o.txSize, 'tx-size'),
        blockTimeMs: intArg(o.blockTime, 'block-time'),
        valsetInterval: intArg(o.valsetInterval, 'valset-interval'),
        batchSize: intArg(o.batch, 'batch'),
        progress: (line) => process.stdout.write(`${line}\n`),
      })
      process.stdout.write(
        `${JSON.stringify({
          chain_id: r.chainId,
          first_height: r.firstHeight,
          last_height: r.lastHeight,
          seconds: Number(r.seconds.toFixed(2)),
          blocks_per_second: Math.round(r.blocksPerSecond),
        })}\n`,
      )
    },
  )

/** Runs the command line on `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], name = 'ghostfleet-simnode'): Promise<number> {
  program.name(name)
  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (error) {
    fail(error)
  }
  return Number(process.exitCode ?? 0)
}

runAsEntry(main)
