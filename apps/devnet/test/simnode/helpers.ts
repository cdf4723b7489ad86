import { rename, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  eventually,
  freePort,
  runProcess,
  startProcess,
  type TempDir,
  type TestProcess,
  tempDir,
} from '@ghostfleet/testkit'

/** The built CLI, run as a real process (build with `npx turbo run build --filter=@ghostfleet/devnet...`). */
export const CLI = fileURLToPath(new URL('../../dist/simnode-cli.js', import.meta.url))

export interface RpcAnswer {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: RPC JSON is inspected freely in assertions
  body: any
  text: string
}

export async function rpcGet(port: number, path: string): Promise<RpcAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) })
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: res.status, headers: res.headers, body, text }
}

export async function rpcPost(port: number, payload: unknown): Promise<RpcAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    body: JSON.stringify(payload),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text }
}

/** A started `ghostfleet-simnode start` process. */
export interface RunningNode {
  proc: TestProcess
  home: string
  id: string
  rpcPort: number
  p2pPort: number
  /** `id@127.0.0.1:<p2pPort>` */
  address: string
  height(): Promise<number>
  status(): Promise<RpcAnswer>
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | string>
}

export interface HomeInfo {
  home: string
  id: string
}

/**
 * Keeps every temp dir and process of a test file so teardown can stop them all: call `cleanup()` in
 * afterEach/afterAll.
 */
export class Fleet {
  private readonly dirs: TempDir[] = []
  private readonly procs: TestProcess[] = []

  async init(chainId: string, moniker = 'node'): Promise<HomeInfo> {
    const dir = await tempDir('simnode-test-')
    this.dirs.push(dir)
    const home = `${dir.path}/home`
    const r = await runProcess('node', [
      CLI,
      'init',
      '--home',
      home,
      '--chain-id',
      chainId,
      '--moniker',
      moniker,
    ])
    if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`)
    const { node_id: id } = JSON.parse(r.stdout) as { node_id: string }
    return { home, id }
  }

  /** Starts a node on fresh loopback ports (unless `--p2p.laddr`/`--rpc.laddr` are in `args`) and waits for RPC. */
  async start(h: HomeInfo, args: string[] = [], opts: { waitForRpc?: boolean } = {}): Promise<RunningNode> {
    const rpcPort = await freePort()
    const hasP2p = args.some((a) => a.startsWith('--p2p.laddr'))
    const p2pPort = hasP2p
      ? Number(/:(\d+)$/.exec(args[args.indexOf('--p2p.laddr') + 1] ?? '')?.[1] ?? 0)
      : await freePort()
    const full = [CLI, 'start', '--home', h.home, '--rpc.laddr', `tcp://127.0.0.1:${rpcPort}`]
    if (!hasP2p) full.push('--p2p.laddr', `tcp://127.0.0.1:${p2pPort}`)
    full.push(...args)
    const proc = startProcess('node', full)
    this.procs.push(proc)
    const node: RunningNode = {
      proc,
      home: h.home,
      id: h.id,
      rpcPort,
      p2pPort,
      address: `${h.id}@127.0.0.1:${p2pPort}`,
      height: async () =>
        Number((await rpcGet(rpcPort, '/status')).body.result.sync_info.latest_block_height),
      status: () => rpcGet(rpcPort, '/status'),
      stop: () => proc.stop('SIGTERM', 15_000),
    }
    if (opts.waitForRpc ?? true) {
      await eventually(
        async () => {
          if (proc.hasExited()) throw new Error(`node exited early: ${proc.output()}`)
          const s = await rpcGet(rpcPort, '/health')
          if (s.status !== 200) throw new Error(`health ${s.status}`)
        },
        { timeoutMs: 20_000, description: `RPC of ${h.home}` },
      )
    }
    return node
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.procs.splice(0).map((p) => p.stop('SIGKILL')))
    await Promise.all(this.dirs.splice(0).map((d) => d.remove()))
  }
}

/** Waits until `node` reaches `height`. */
export async function waitForHeight(node: RunningNode, height: number, timeoutMs = 30_000): Promise<number> {
  return await eventually(
    async () => {
      const h = await node.height()
      if (h < height) throw new Error(`${node.home} at ${h}, waiting for ${height}`)
      return h
    },
    { timeoutMs, intervalMs: 100, description: `height ${height}` },
  )
}

/** Moves a file, as supervysor / the sidecar stash the address book. */
export async function moveFile(from: string, to: string): Promise<void> {
  await rm(to, { force: true })
  await rename(from, to)
}
