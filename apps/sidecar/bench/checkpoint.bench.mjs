// Checkpoint benchmark (issue 14 groundwork), run by `npm run bench -- checkpoint` after a build. Targets are
// printed, never asserted.
// On a goleveldb home of GF_BENCH_CHECKPOINT_BLOCKS blocks (default 100,000), against `cp -a` of the same data
// directory on the same disk, measured in the same run (each twice, the better run counts; the first `cp -a` also
// warms the page cache for everything after it):
//   - take: what a donation adds to the node's stop + start (links + copies of the mutable files). Target: seconds,
//     far below cp -a;
//   - seal: hashing every byte for the signed manifest (the node serves again meanwhile);
//   - verify + install into an empty home from a download on the same filesystem.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FleetKey } from '@ghostfleet/coordination'
import { goleveldbTool } from '@ghostfleet/testkit'

const here = path.dirname(fileURLToPath(import.meta.url))
const {
  installCheckpoint,
  sealCheckpoint,
  takeCheckpoint,
  verifyCheckpointFiles,
  verifyManifest,
  formatManifest,
} = await import(path.join(here, '../dist/checkpoint/index.js'))
const BLOCKS = Number(process.env.GF_BENCH_CHECKPOINT_BLOCKS ?? 100_000)

const dir = await mkdtemp(path.join(os.tmpdir(), 'gf-checkpoint-bench-'))
try {
  const gl = await goleveldbTool()
  const home = path.join(dir, 'donor')
  console.log(`generating a ${BLOCKS}-block goleveldb home…`)
  const gen = await gl.generateHome({
    home,
    chainId: 'bench-1',
    blocks: BLOCKS,
    partsPerBlock: 1,
    partSize: 2000,
    abciResponseSize: 500,
  })
  const genesis = { genesis_time: '2024-01-01T00:00:00Z', chain_id: 'bench-1', app_state: {} }
  await writeFile(path.join(home, 'config', 'genesis.json'), JSON.stringify(genesis))
  const mb = gen.bytes / 1e6
  // Every run starts with nothing dirty in the page cache: an fsync on ext4 (data=ordered) would otherwise also
  // write back the generator's or the previous run's data, and charge it to whichever run comes first.
  const time = async (fn) => {
    spawnSync('sync')
    const t = process.hrtime.bigint()
    const value = await fn()
    return { ms: Number(process.hrtime.bigint() - t) / 1e6, value }
  }
  const cpA = async (n) =>
    (
      await time(async () => {
        const r = spawnSync('cp', ['-a', path.join(home, 'data'), path.join(dir, `cp-a-${n}`)])
        if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr}`)
        spawnSync('sync')
      })
    ).ms
  const fleetKey = FleetKey.parse(randomBytes(32).toString('hex'))
  const checkpoints = path.join(dir, 'checkpoints')

  const cpRuns = [await cpA(1)]
  const takes = []
  let taken
  for (const n of [1, 2]) {
    const r = await time(() =>
      takeCheckpoint({ home, checkpointsDir: checkpoints, now: new Date(Date.now() + n) }),
    )
    takes.push(r.ms)
    taken = r.value
  }
  cpRuns.push(await cpA(2))
  const seal = await time(() => sealCheckpoint({ dir: taken.dir, fleetKey, donor: 'bench-donor' }))
  const manifest = verifyManifest(formatManifest(seal.value.manifest), fleetKey)
  const download = path.join(dir, 'download')
  await cp(path.join(taken.dir, 'data'), download, { recursive: true })
  const verify = await time(() => verifyCheckpointFiles(download, manifest))
  const target = path.join(dir, 'receiver')
  await cp(path.join(home, 'config'), path.join(target, 'config'), { recursive: true })
  const install = await time(() => installCheckpoint({ home: target, sourceDataDir: download, manifest }))

  const best = (xs) => Math.min(...xs)
  const s = (ms) => (ms / 1000).toFixed(2)
  console.log(`home: ${BLOCKS} blocks, ${mb.toFixed(0)} MB, ${manifest.files.length} files`)
  console.log(`take runs ${takes.map(s).join(', ')} s; cp -a runs ${cpRuns.map(s).join(', ')} s`)
  console.log(
    `take: ${taken.linkedFiles} tables linked (${(taken.linkedBytes / 1e6).toFixed(0)} MB), ` +
      `${taken.copiedFiles} files copied (${(taken.copiedBytes / 1e6).toFixed(1)} MB)`,
  )
  console.log(`seal (sha256 of every file): ${s(seal.ms)} s, ${(mb / (seal.ms / 1000)).toFixed(0)} MB/s`)
  console.log(`verify: ${s(verify.ms)} s; install (tables linked): ${s(install.ms)} s incl. its own verify`)
  const ratio = best(takes) / best(cpRuns)
  const moved = taken.copiedBytes / (taken.copiedBytes + taken.linkedBytes)
  console.log(
    `checkpoint: take ${s(best(takes))} s vs cp -a ${s(best(cpRuns))} s (${ratio.toFixed(3)}x, target: seconds; ` +
      `${(moved * 100).toFixed(1)}% of the bytes copied); seal ${s(seal.ms)} s; install ${s(install.ms)} s`,
  )
} finally {
  await rm(dir, { recursive: true, force: true })
}
