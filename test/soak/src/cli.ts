#!/usr/bin/env node
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { runSoak } from './soak.js'

/*
 * `npm run soak -- --duration <seconds> --seed <n> [--report <file>] [--keep] [--redis sentinel|single]
 * [--small-disks n]`: one chaos soak against a real local fleet. Exit 0 only with no violation; the last line is the summary. A failing seed replays with --seed.
 */

const optionsSchema = z.object({
  duration: z.coerce.number().int().min(30, 'at least 30 seconds').max(86_400),
  seed: z.coerce.number().int().min(0).max(0xffffffff),
  report: z.string().min(1).optional(),
  keep: z.boolean(),
  'small-disks': z.coerce.number().int().min(0).max(6),
  redis: z.enum(['sentinel', 'single'], { error: 'expected sentinel or single' }),
})

const USAGE = `Usage: npm run soak -- [--duration <seconds>] [--seed <n>] [--report <file>] [--keep]
                      [--redis sentinel|single] [--small-disks <n>]

Runs a chaos soak against a real local fleet (redis, a producer chain, the KYVE simulator with two pools, two
trackers, six sidecars) with a seeded fault schedule and invariant checkers. Exits 0 only with no violation; the
last line is the summary. A failing seed replays with --seed.

  --duration <seconds>     how long faults are injected (30-86400; default 300)
  --seed <n>               the fault schedule's seed (default: random, printed)
  --report <file>          the JSON report (default: <tmp>/ghostfleet-soak-<seed>.json)
  --keep                   keep the work directory (homes, configs, logs); kept anyway on a violation
  --redis sentinel|single  Redis behind Sentinel with failovers (default; needs redis-sentinel) or one server
  --small-disks <n>        sidecars (0-6, default 1) whose node home is a small filesystem the disk-full fault fills
`

async function main(): Promise<number> {
  // Ctrl-C or SIGTERM ends the run through process.exit, whose handler stops the fleet (see runSoak).
  // `on`, not `once`: a second signal while the exit handler runs must not find the default action (death
  // without the cleanup).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      options: {
        duration: { type: 'string', default: '300' },
        seed: { type: 'string', default: String(Math.floor(Math.random() * 0xffffffff)) },
        report: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'small-disks': { type: 'string', default: '1' },
        redis: { type: 'string', default: 'sentinel' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
    return 2
  }
  if (values['help'] === true) {
    process.stdout.write(USAGE)
    return 0
  }
  const parsed = optionsSchema.safeParse(values)
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      process.stderr.write(`--${issue.path.join('.')}: ${issue.message}\n`)
    return 2
  }
  const options = parsed.data
  const report = await runSoak({
    seed: options.seed,
    durationSeconds: options.duration,
    reportFile: options.report ?? path.join(os.tmpdir(), `ghostfleet-soak-${options.seed}.json`),
    keep: options.keep,
    smallDisks: options['small-disks'],
    redis: options.redis,
    say: (line) => process.stdout.write(`${line}\n`),
  })
  return report.violations.length === 0 ? 0 : 1
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(
      `soak failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exitCode = 2
  },
)
