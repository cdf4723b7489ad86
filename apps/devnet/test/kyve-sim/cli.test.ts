import { fileURLToPath } from 'node:url'
import { eventually, freePort, runProcess, startProcess, type TestProcess } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { type FakeChain, getJson, getText, startFakeChain } from './helpers.js'

// The built CLI, as operators run it (turbo builds the package before its tests run).
const CLI = fileURLToPath(new URL('../../dist/devnet-cli.js', import.meta.url))

let processes: TestProcess[] = []
let chain: FakeChain | undefined
afterEach(async () => {
  await Promise.all(processes.map((child) => child.stop('SIGKILL')))
  processes = []
  await chain?.close()
  chain = undefined
})

function launch(args: string[]): TestProcess {
  const child = startProcess(process.execPath, [CLI, 'kyve', ...args])
  processes.push(child)
  return child
}

describe('ghostfleet-devnet kyve', () => {
  it('serves pools that follow the chain, logs JSON lines, and exits 0 on SIGTERM', async () => {
    chain = await startFakeChain(420)
    const port = await freePort()
    const child = launch([
      '--listen',
      `127.0.0.1:${port}`,
      '--chain-rpc',
      chain.url,
      '--pool-id',
      '1',
      '--pool-id',
      '22',
      '--bundle-every-ms',
      '50',
      '--max-bundle-size',
      '50',
      '--chain-id',
      'kaon-1',
    ])
    const base = `http://127.0.0.1:${port}`
    await eventually(
      async () => {
        if (child.hasExited()) throw new Error(`exited early: ${child.output()}`)
        const { body } = await getJson<{ pool: { data: { current_key: string; max_bundle_size: string } } }>(
          `${base}/kyve/query/v1beta1/pool/22`,
        )
        expect(body.pool.data.max_bundle_size).toBe('50')
        expect(body.pool.data.current_key).toBe('420')
      },
      { timeoutMs: 20_000, description: 'pool 22 to reach the chain height' },
    )
    const info = await getJson<{ default_node_info: { network: string } }>(
      `${base}/cosmos/base/tendermint/v1beta1/node_info`,
    )
    expect(info.body.default_node_info.network).toBe('kaon-1')
    expect((await getText(`${base}/admin/stats`)).status).toBe(200)
    const lines = child
      .output()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { level: string; msg: string; url?: string })
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'kyve simulator listening', url: base })
    expect(lines.some((line) => line.msg === 'bundle finalized')).toBe(true)
    expect(await child.stop('SIGTERM')).toBe(0)
    expect(child.output()).toContain('"msg":"kyve simulator stopped"')
  })

  it('imitates chain v1.4 with --api-version 1.4', async () => {
    chain = await startFakeChain(10)
    const port = await freePort()
    const child = launch([
      '--listen',
      `127.0.0.1:${port}`,
      '--chain-rpc',
      chain.url,
      '--pool-id',
      '1',
      '--api-version',
      '1.4',
    ])
    const answer = await eventually(
      async () => {
        if (child.hasExited()) throw new Error(`exited early: ${child.output()}`)
        return await getText(`http://127.0.0.1:${port}/kyve/query/v1beta1/pool/1`)
      },
      { timeoutMs: 20_000 },
    )
    expect(answer.text.startsWith('{\n  "pool": {\n')).toBe(true)
    expect(answer.text).not.toContain('end_key')
    expect(await child.stop('SIGTERM')).toBe(0)
  })

  it('refuses bad flags with a message naming the flag', async () => {
    const noPool = await runProcess(process.execPath, [CLI, 'kyve', '--chain-rpc', 'http://127.0.0.1:1'])
    expect(noPool.code).not.toBe(0)
    expect(noPool.stderr).toContain('--pool-id is required')
    const badSize = await runProcess(process.execPath, [
      CLI,
      'kyve',
      '--chain-rpc',
      'http://127.0.0.1:1',
      '--pool-id',
      '1',
      '--max-bundle-size',
      'ten',
    ])
    expect(badSize.code).not.toBe(0)
    expect(badSize.stderr).toContain('--max-bundle-size expects a non-negative whole number')
    const badListen = await runProcess(process.execPath, [
      CLI,
      'kyve',
      '--chain-rpc',
      'http://127.0.0.1:1',
      '--pool-id',
      '1',
      '--listen',
      'localhost',
    ])
    expect(badListen.code).not.toBe(0)
    expect(badListen.stderr).toContain('--listen expects host:port')
    const badRuntime = await runProcess(process.execPath, [
      CLI,
      'kyve',
      '--chain-rpc',
      'http://127.0.0.1:1',
      '--pool-id',
      '1',
      '--runtime',
      'evm',
    ])
    expect(badRuntime.code).not.toBe(0)
    expect(badRuntime.stderr).toContain('--runtime')
    const badRpc = await runProcess(process.execPath, [
      CLI,
      'kyve',
      '--chain-rpc',
      'localhost:26657',
      '--pool-id',
      '1',
    ])
    expect(badRpc.code).not.toBe(0)
    expect(badRpc.stderr).toContain('--chain-rpc expects an http:// or https:// URL')
    const badPool = await runProcess(process.execPath, [
      CLI,
      'kyve',
      '--chain-rpc',
      'http://127.0.0.1:1',
      '--pool-id',
      'one',
    ])
    expect(badPool.code).not.toBe(0)
    expect(badPool.stderr).toContain('--pool-id expects a pool id')
  })

  it('exits non-zero when the port is taken', async () => {
    chain = await startFakeChain(10)
    const port = await freePort()
    const first = launch(['--listen', `127.0.0.1:${port}`, '--chain-rpc', chain.url, '--pool-id', '1'])
    await eventually(
      async () => expect((await getText(`http://127.0.0.1:${port}/admin/stats`)).status).toBe(200),
      {
        timeoutMs: 20_000,
      },
    )
    const second = await runProcess(process.execPath, [
      CLI,
      'kyve',
      '--listen',
      `127.0.0.1:${port}`,
      '--chain-rpc',
      chain.url,
      '--pool-id',
      '1',
    ])
    expect(second.code).not.toBe(0)
    expect(second.stderr).toContain('EADDRINUSE')
    expect(await first.stop('SIGTERM')).toBe(0)
  })
})
