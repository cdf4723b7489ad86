// Bootstrap benchmark (issue 14), run by `npm run bench -- bootstrap` after a build. Targets are printed, never
// asserted. Over loopback on this machine, on a window of GF_BENCH_BOOTSTRAP_MB megabytes (default 2048): goleveldb
// databases from the test kit's generator (incompressible block parts, like real txs; the simulated node's own
// generator writes compressible txs at ~1 MB/s of incompressible data, too slow for 2 GB), in a home of
// `ghostfleet-simnode`, which runs on it as donor and new node:
//   - donor downtime: the donor node's SIGTERM → exit, takeCheckpoint (hard links), start → RPC answering; beside a
//     plain restart of the same node measured in the same run. Target: stop + start + ≤ 5 s;
//   - transfer: the new host's parallel download of the sealed checkpoint from a signed peer listener serving the
//     donor sidecar's checkpoint routes (bootstrap-donor.mjs, a process of its own), every file verified against
//     the manifest, then `sync`; against
//     a raw copy of the same files, a `tar | tar` pipe then `sync`, in the same run. Target: ≥ 0.8×;
//   - serving after: from the donor's stop to the new node (launched as `start` launches it in ghost mode, on the
//     installed checkpoint) serving the manifest's top and base heights with the manifest's app hash: downtime +
//     seal + transfer + install + start. The tracker's scheduling (a poll interval) is not in it. The bench asks
//     /header (the generator's block parts are random bytes, so the simulated node cannot decode /block from
//     them); the command's own check of /block is tested on a simulated node's home (bootstrap-node.test.ts).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FleetKey } from '@ghostfleet/coordination'
import { createPeerClient } from '@ghostfleet/peer'
import { freePort, goleveldbTool, SIMNODE_CLI } from '@ghostfleet/testkit'

const here = path.dirname(fileURLToPath(import.meta.url))
const dist = (file) => import(path.join(here, '../dist', file))
const { readSealedManifest, sealCheckpoint, takeCheckpoint } = await dist('checkpoint/index.js')
const { installFromDonor } = await dist('bootstrap/install-from-donor.js')
const { launchSpecFor } = await dist('supervisor/launch-spec.js')
const { NodeProcess } = await dist('supervisor/node-process.js')

const MB = Number(process.env.GF_BENCH_BOOTSTRAP_MB ?? 2048)
const PARALLEL = Number(process.env.GF_BENCH_BOOTSTRAP_PARALLEL ?? 4)
/** Bytes per block of the generator's defaults (2 parts of 3000 bytes, results, commit), measured. */
const BYTES_PER_BLOCK = 8_200
const BLOCKS = Math.max(100, Math.ceil((MB * 1e6) / BYTES_PER_BLOCK))
const CHAIN = 'bench-boot-1'
const silent = { debug() {}, info() {}, warn() {}, error() {} }
const s = (ms) => (ms / 1000).toFixed(2)
const now = () => Number(process.hrtime.bigint()) / 1e6

function sh(command, args) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

async function rpcAnswers(url) {
  try {
    const r = await fetch(`${url}/status`, { signal: AbortSignal.timeout(1_000) })
    return r.status === 200
  } catch {
    return false
  }
}

/** Polls until the node's RPC answers (no fixed sleep: a short pause between tries, with a deadline). */
async function untilServing(url, deadlineMs = 120_000) {
  const end = now() + deadlineMs
  while (!(await rpcAnswers(url))) {
    if (now() > end) throw new Error(`${url} did not answer within ${deadlineMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function bytesOf(dir) {
  return Number(sh('du', ['-sb', '--apparent-size', dir]).split('\t')[0])
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'gf-bootstrap-bench-'))
const cleanup = []
try {
  const fleetKeyText = randomBytes(32).toString('hex')
  const fleetKey = FleetKey.parse(fleetKeyText)
  const donorHome = path.join(dir, 'donor')
  console.log(`generating a ${BLOCKS}-block goleveldb window (~${MB} MB)…`)
  const genStarted = now()
  sh(process.execPath, [SIMNODE_CLI, 'init', '--home', donorHome, '--chain-id', CHAIN, '--moniker', 'donor'])
  const generated = path.join(dir, 'generated')
  const gl = await goleveldbTool()
  await gl.generateHome({ home: generated, chainId: CHAIN, blocks: BLOCKS })
  for (const db of ['blockstore.db', 'state.db'])
    await rename(path.join(generated, 'data', db), path.join(donorHome, 'data', db))
  console.log(`generated in ${s(now() - genStarted)} s`)

  // The donor: a real node process, stopped and started the way the sidecar does (process group, SIGTERM, wait).
  const donorRpc = await freePort()
  const donorUrl = `http://127.0.0.1:${donorRpc}`
  const donorNode = new NodeProcess({
    launchSpec: async () => ({
      command: process.execPath,
      args: [
        SIMNODE_CLI,
        'start',
        '--home',
        donorHome,
        '--rpc.laddr',
        `tcp://127.0.0.1:${donorRpc}`,
        '--p2p.laddr',
        `tcp://127.0.0.1:${await freePort()}`,
        '--p2p.pex=false',
        '--log-level',
        'error',
      ],
      env: {},
    }),
    output: { kind: 'file', path: path.join(dir, 'donor.log') },
    stopGraceMs: 30_000,
    backoff: { initialMs: 1_000, maxMs: 5_000, resetAfterMs: 60_000 },
  })
  cleanup.push(() => donorNode.stop())
  await donorNode.start()
  await untilServing(donorUrl)

  // A plain restart, the downtime's baseline.
  spawnSync('sync')
  let t = now()
  await donorNode.stop()
  await donorNode.start()
  await untilServing(donorUrl)
  const restartMs = now() - t

  // The donation: stop, take (links), start.
  const checkpoints = path.join(dir, 'checkpoints')
  spawnSync('sync')
  const donationStarted = now()
  await donorNode.stop()
  const stoppedAt = now()
  const taken = await takeCheckpoint({ home: donorHome, checkpointsDir: checkpoints })
  const takeMs = now() - stoppedAt
  await donorNode.start()
  await untilServing(donorUrl)
  const downtimeMs = now() - donationStarted
  t = now()
  await sealCheckpoint({ dir: taken.dir, fleetKey, donor: 'bench-donor' })
  const sealMs = now() - t
  const manifest = await readSealedManifest(taken.dir, fleetKey)
  const checkpointBytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0)

  // The donor's checkpoint routes on a signed peer listener, in a process of its own.
  const donorServer = spawn(
    process.execPath,
    [path.join(here, 'bootstrap-donor.mjs'), checkpoints, CHAIN, 'bench-donor'],
    {
      env: { ...process.env, GF_BENCH_FLEET_KEY: fleetKeyText },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  cleanup.push(async () => {
    donorServer.kill('SIGTERM')
  })
  const server = {
    url: await new Promise((resolve, reject) => {
      let out = ''
      donorServer.stdout.on('data', (chunk) => {
        out += chunk
        if (out.includes('\n')) resolve(out.trim())
      })
      donorServer.once('exit', (code) => reject(new Error(`the donor's server exited with ${code}`)))
    }),
  }

  // The raw copy of the same files, in the same run.
  const rawDir = path.join(dir, 'raw-copy')
  await mkdir(rawDir)
  spawnSync('sync')
  t = now()
  const tar = spawnSync('sh', [
    '-c',
    `tar -C '${path.join(taken.dir, 'data')}' -cf - . | tar -C '${rawDir}' -xf - && sync`,
  ])
  if (tar.status !== 0) throw new Error(`tar | tar failed: ${tar.stderr}`)
  const rawMs = now() - t
  const rawBytes = await bytesOf(rawDir)
  await rm(rawDir, { recursive: true, force: true })

  // The new host.
  const home = path.join(dir, 'new-host')
  sh(process.execPath, [SIMNODE_CLI, 'init', '--home', home, '--chain-id', CHAIN, '--moniker', 'new-host'])
  const rpcPort = await freePort()
  const configFile = path.join(home, 'config', 'config.toml')
  await writeFile(
    configFile,
    (await readFile(configFile, 'utf8')).replace(
      /^laddr = "tcp:\/\/127\.0\.0\.1:26657"$/m,
      `laddr = "tcp://127.0.0.1:${rpcPort}"`,
    ),
  )
  const binary = path.join(dir, 'simnode')
  await writeFile(binary, `#!/bin/sh\nexec "${process.execPath}" "${SIMNODE_CLI}" "$@"\n`)
  await chmod(binary, 0o755)
  const client = createPeerClient({ key: fleetKey, sender: 'bench-new-host', maxSockets: PARALLEL + 2 })
  spawnSync('sync')
  t = now()
  const installed = await installFromDonor({
    client,
    fleetKey,
    sender: 'bench-new-host',
    peerUrl: server.url,
    donor: 'bench-donor',
    checkpointId: manifest.id,
    home,
    parallel: PARALLEL,
    force: false,
    log: silent,
  })
  const transferMs = installed.download.durationMs
  spawnSync('sync')
  const installMs = now() - t - transferMs
  client.close()
  // The new node, launched as `start` launches it in ghost mode, until it serves the window's ends.
  const newUrl = `http://127.0.0.1:${rpcPort}`
  const newNode = new NodeProcess({
    launchSpec: () =>
      launchSpecFor(
        { binary, home, launcher: 'binary', flags: '--log-level error', configDir: path.join(dir, 'cfg') },
        'ghost',
      ),
    output: { kind: 'file', path: path.join(dir, 'new-host.log') },
    stopGraceMs: 30_000,
    backoff: { initialMs: 1_000, maxMs: 5_000, resetAfterMs: 60_000 },
  })
  cleanup.push(() => newNode.stop())
  const nodeStarted = now()
  await newNode.start()
  const header = async (height) => {
    try {
      const r = await fetch(`${newUrl}/header?height=${height}`, { signal: AbortSignal.timeout(2_000) })
      return r.status === 200 ? (await r.json()).result.header : null
    } catch {
      return null
    }
  }
  const end = now() + 120_000
  for (;;) {
    const top = await header(manifest.blockStore.height)
    const base = top === null ? null : await header(manifest.blockStore.base)
    if (top !== null && base !== null) {
      if (top.app_hash !== manifest.blocks.top.appHash)
        throw new Error('the new node serves another app hash')
      break
    }
    if (now() > end) throw new Error('the new node did not serve the window within 120 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const served = { servingAfterMs: now() - nodeStarted }
  const servingAfterMs = now() - donationStarted

  const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000)
  const transferRate = mbps(installed.download.fetchedBytes, transferMs)
  const rawRate = mbps(rawBytes, rawMs)
  await newNode.stop()
  console.log(
    `window: blocks ${manifest.blockStore.base}..${manifest.blockStore.height}, ${(checkpointBytes / 1e6).toFixed(0)} MB in ` +
      `${manifest.files.length} files`,
  )
  console.log(
    `donor: plain restart ${s(restartMs)} s; donation stop + take + start ${s(downtimeMs)} s (take ${s(takeMs)} s: ` +
      `${taken.linkedFiles} tables linked, ${taken.copiedFiles} files copied); seal ${s(sealMs)} s (node serving)`,
  )
  console.log(
    `transfer: ${(installed.download.fetchedBytes / 1e6).toFixed(0)} MB in ${s(transferMs)} s over ${PARALLEL} ` +
      `connections, verified; raw tar | tar ${(rawBytes / 1e6).toFixed(0)} MB in ${s(rawMs)} s; install ${s(installMs)} s ` +
      `(verify + links); new node serving the window's ends ${s(served.servingAfterMs)} s after its start`,
  )
  console.log(
    `targets: transfer ≥ 0.8x raw copy; donor downtime ≤ stop + start (${s(restartMs)} s) + 5 s; window ≥ 2 GB ` +
      `(${(checkpointBytes / 1e9).toFixed(2)} GB)`,
  )
  console.log(
    `bootstrap: ${transferRate.toFixed(0)} MB/s vs raw copy ${rawRate.toFixed(0)} MB/s ` +
      `(${(transferRate / rawRate).toFixed(2)}x); donor downtime ${s(downtimeMs)} s; serving after ${s(servingAfterMs)} s`,
  )
} finally {
  for (const step of cleanup.reverse()) await step().catch(() => undefined)
  await rm(dir, { recursive: true, force: true })
}
