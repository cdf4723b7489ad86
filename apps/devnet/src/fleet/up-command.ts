import { Command, InvalidArgumentError } from 'commander'
import { up } from './up.js'

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${flag} must be a positive integer, got "${value}"`)
    return n
  }
}

/** `ghostfleet devnet up`: the whole local fleet, for the demo (`npm run demo`) and by hand. */
export function upCommand(): Command {
  return new Command('up')
    .description(
      'start a local fleet — redis-server, a producer node, the simulated KYVE API, a tracker and sidecars ' +
        'supervising follower nodes — and show the fleet table until Ctrl-C',
    )
    .option('--sidecars <n>', 'sidecars, each with a follower node', positiveInt('--sidecars'), 3)
    .option('--block-time <ms>', 'producer block time', positiveInt('--block-time'), 200)
    .option(
      '--pause-seconds <s>',
      'how long the pool stands still each cycle',
      positiveInt('--pause-seconds'),
      40,
    )
    .option('--run-seconds <s>', 'how long the pool runs each cycle', positiveInt('--run-seconds'), 40)
    .option('--duration <s>', 'stop by itself after this many seconds', positiveInt('--duration'))
    .option(
      '--dir <path>',
      'work directory for homes, configs and logs (kept) [default: a temp dir, removed]',
    )
    .option('--keep', 'keep the temp work directory after stopping', false)
    .action(async (flags: Record<string, unknown>) => {
      try {
        await up({
          sidecars: flags.sidecars as number,
          blockTimeMs: flags.blockTime as number,
          durationSeconds: flags.duration as number | undefined,
          dir: flags.dir as string | undefined,
          keep: flags.keep === true,
          scenario: { pauseSeconds: flags.pauseSeconds as number, runSeconds: flags.runSeconds as number },
          print: (text) => process.stdout.write(text),
          redraw: process.stdout.isTTY === true,
          columns: () => process.stdout.columns,
        })
      } catch (error) {
        process.stderr.write(`ghostfleet devnet up: ${(error as Error).message}\n`)
        process.exitCode = 1
      }
    })
}
