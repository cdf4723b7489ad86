#!/usr/bin/env node
// Soak test of a ghostfleet-simnode producer: runs one (optionally with followers) for a given duration and
// samples the resident memory of every node process every few seconds.
//
//   node apps/devnet/scripts/soak-producer.mjs --duration 1800 [--interval 5] [--block-time 100] [--followers 0]
//
// Prints one line per sample ("t=… height=… rss_mb=…") and a summary (min/max/first/last RSS per node, blocks
// produced, blocks/s). Needs the built CLI (npx turbo run build --filter=@ghostfleet/devnet...).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../dist/simnode-cli.js', import.meta.url))

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const durationS = Number(arg('duration', '300'))
const intervalS = Number(arg('interval', '5'))
const blockTime = arg('block-time', '100')
const followers = Number(arg('followers', '0'))
const keep = process.argv.includes('--keep')

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

function run(args) {
  return new Promise((resolve, reject) => {
    const c = spawn('node', [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited ${code}`))))
  })
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

async function height(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) })
    return Number((await r.json()).result.sync_info.latest_block_height)
  } catch {
    return Number.NaN
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'simnode-soak-'))
const nodes = []
async function startNode(name, extra) {
  const home = path.join(dir, name)
  const { node_id } = JSON.parse(
    await run(['init', '--home', home, '--chain-id', 'soak-1', '--moniker', name]),
  )
  const rpc = await freePort()
  const p2p = await freePort()
  const child = spawn(
    'node',
    [
      cli,
      'start',
      '--home',
      home,
      '--rpc.laddr',
      `tcp://127.0.0.1:${rpc}`,
      '--p2p.laddr',
      `tcp://127.0.0.1:${p2p}`,
      '--log-level',
      'error',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const node = { name, child, rpc, address: `${node_id}@127.0.0.1:${p2p}`, samples: [] }
  nodes.push(node)
  return node
}

const producer = await startNode('producer', ['--producer', '--block-time', blockTime])
for (let i = 0; i < followers; i++)
  await startNode(`follower-${i}`, ['--p2p.persistent_peers', producer.address])

const t0 = Date.now()
let firstHeight = Number.NaN
const stop = async () => {
  for (const n of nodes) n.child.kill('SIGTERM')
  await Promise.all(
    nodes.map((n) => new Promise((r) => (n.child.exitCode !== null ? r() : n.child.once('exit', r)))),
  )
  if (!keep) await rm(dir, { recursive: true, force: true })
}
process.on('SIGINT', () => stop().then(() => process.exit(130)))

await new Promise((resolve) => {
  const sample = async () => {
    const t = (Date.now() - t0) / 1000
    const h = await height(producer.rpc)
    if (Number.isNaN(firstHeight) && !Number.isNaN(h)) firstHeight = h
    const parts = nodes.map((n) => {
      const rss = rssMb(n.child.pid)
      n.samples.push(rss)
      return `${n.name}_rss_mb=${rss.toFixed(1)}`
    })
    console.log(`t=${t.toFixed(0)}s height=${h} ${parts.join(' ')}`)
    if (t >= durationS) resolve()
    else setTimeout(sample, intervalS * 1000)
  }
  setTimeout(sample, intervalS * 1000)
})

const lastHeight = await height(producer.rpc)
const elapsed = (Date.now() - t0) / 1000
for (const n of nodes) {
  const s = n.samples.filter((x) => !Number.isNaN(x))
  const min = Math.min(...s)
  const max = Math.max(...s)
  console.log(
    `summary ${n.name}: samples=${s.length} rss_mb first=${s[0]?.toFixed(1)} last=${s.at(-1)?.toFixed(1)} min=${min.toFixed(1)} max=${max.toFixed(1)}`,
  )
}
console.log(
  `summary chain: duration_s=${elapsed.toFixed(0)} heights ${firstHeight}..${lastHeight} blocks_per_s=${((lastHeight - firstHeight) / elapsed).toFixed(2)} (block time ${blockTime} ms)`,
)
await stop()
