/**
 * The README's demo, as a user runs it: `ghostfleet-devnet up --duration 120` (what `npm run demo` runs, with a
 * time limit). Within the two minutes a node must go ghost, a prune must happen and a node must return to normal,
 * no node may fall behind its pool, and when it ends it must exit 0 and leave nothing running.
 *
 * The demo's tests live with the `ghostfleet` CLI (`ghostfleet devnet up` is the same command) rather than in
 * test/e2e: turbo runs the e2e suite last, alone, so its files are the wall time of `npm test`; here they run
 * beside the other packages' tests.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  canConnect,
  disruptions,
  logLines,
  processesMentioning,
  runProcess,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, describe, expect, it } from 'vitest'

const DEVNET_CLI = fileURLToPath(new URL('../../devnet/dist/devnet-cli.js', import.meta.url))
const SIDECARS = ['demo-sidecar-1', 'demo-sidecar-2', 'demo-sidecar-3']

let dir: TempDir | undefined
let passed = false

afterAll(async () => {
  // A failed run keeps its work directory (logs of every process) for a look.
  if (passed || dir === undefined) await dir?.remove()
  else process.stderr.write(`demo work directory kept: ${dir.path}\n`)
})

describe('the demo (ghostfleet-devnet up)', () => {
  it('shows ghost mode, a prune and the return to normal within 120 s, then stops everything', async () => {
    dir = await tempDir('gf-e2e-demo-')
    const work = dir.path
    const result = await runProcess(process.execPath, [DEVNET_CLI, 'up', '--duration', '120', '--dir', work])
    const tail = `${result.stdout.slice(-3000)}\n${result.stderr}`
    expect(result.code, tail).toBe(0)
    expect(result.stdout).toContain('stopping (duration elapsed)')
    expect(result.stdout).toContain('everything stopped')
    for (const name of [...SIDECARS, 'demo-tracker', 'producer'])
      expect(result.stdout).toContain(`${name}: exit 0`)

    // What happened, from the sidecars' own logs.
    const spans = SIDECARS.flatMap((id) => disruptions(id, path.join(work, 'logs', `${id}.log`)))
    const toGhost = spans.filter((d) => d.kind === 'switch' && d.detail['to'] === 'ghost')
    const prunes = SIDECARS.flatMap((id) =>
      logLines(path.join(work, 'logs', `${id}.log`)).filter((l) =>
        String(l['msg']).startsWith('pruned blocks'),
      ),
    )
    const backToNormal = spans.filter(
      (d) =>
        d.kind === 'switch' &&
        d.detail['to'] === 'normal' &&
        toGhost.some((g) => g.sidecarId === d.sidecarId && g.from < d.from),
    )
    expect(toGhost.length, `a node went ghost\n${tail}`).toBeGreaterThan(0)
    expect(prunes.length, `a prune happened\n${tail}`).toBeGreaterThan(0)
    expect(backToNormal.length, `a node returned to normal\n${tail}`).toBeGreaterThan(0)
    for (const d of [...toGhost, ...backToNormal]) expect(d.detail['decidedBy']).toBe('tracker')

    // No node is ever overtaken by its pool: the LAG column (node height − pool height) of every table row.
    const rows = result.stdout.split('\n').filter((l) => l.startsWith('kyve-1/0 '))
    expect(rows.length).toBeGreaterThan(10)
    const lags = rows.map((r) => r.split(/\s{2,}/)[4] ?? '').filter((lag) => lag !== '-')
    expect(
      lags.filter((lag) => !(Number(lag) >= 0)),
      `negative LAG\n${tail}`,
    ).toEqual([])
    // The header and the table agree: the only pool height shown is the table's.
    expect(result.stdout).not.toContain('(none yet)')

    // Nothing left running: no process mentions the work directory (nodes, sidecars, tracker, producer), and
    // the private redis-server is gone.
    expect(await processesMentioning(work)).toEqual([])
    const port = Number(/redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(result.stdout)?.[1])
    expect(port).toBeGreaterThan(0)
    expect(await canConnect(port)).toBe(false)
    // redis-server retitles itself `redis-server <bind>:<port>`, so that is what a leftover would show.
    expect(await processesMentioning(`redis-server 127.0.0.1:${port}`)).toEqual([])
    const pids = [...result.stdout.matchAll(/\(pid (\d+)\)|, pid (\d+)\)/g)].map((m) => Number(m[1] ?? m[2]))
    expect(pids.length).toBe(2 + SIDECARS.length)
    for (const pid of pids) expect(await isRunning(pid, work), `pid ${pid}`).toBe(false)
    passed = true
  }, 300_000)
})

/** Whether `pid` is a live process that belongs to this demo (a reused pid of something else does not count). */
async function isRunning(pid: number, work: string): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  return (await processesMentioning(work)).some((p) => p.pid === pid)
}
