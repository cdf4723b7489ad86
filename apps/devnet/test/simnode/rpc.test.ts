import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Fleet, type RunningNode, rpcGet, rpcPost, waitForHeight } from './helpers.js'

const fleet = new Fleet()
let fresh: RunningNode
let producer: RunningNode

beforeAll(async () => {
  const [a, b] = await Promise.all([fleet.init('sim-rpc-1', 'fresh'), fleet.init('sim-rpc-1', 'producer')])
  fresh = await fleet.start(a)
  producer = await fleet.start(b, ['--producer', '--block-time', '100', '--valset-interval', '5'])
  await waitForHeight(producer, 12)
}, 60_000)
afterAll(() => fleet.cleanup())

const INT_STRING = /^\d+$/

describe('RPC shapes of CometBFT v0.37', () => {
  it('a fresh node: abci_info omits last_block_height, status shows an empty store', async () => {
    const abci = await rpcGet(fresh.rpcPort, '/abci_info')
    expect(abci.status).toBe(200)
    expect(abci.body).toEqual({
      jsonrpc: '2.0',
      id: -1,
      result: { response: { data: 'simapp', version: '0.47.0' } },
    })
    const s = (await fresh.status()).body.result
    expect(s.sync_info).toEqual({
      latest_block_hash: '',
      latest_app_hash: '',
      latest_block_height: '0',
      latest_block_time: '1970-01-01T00:00:00Z',
      earliest_block_hash: '',
      earliest_app_hash: '',
      earliest_block_height: '0',
      earliest_block_time: '1970-01-01T00:00:00Z',
      catching_up: true,
    })
    expect(s.node_info.protocol_version).toEqual({ p2p: '8', block: '11', app: '0' })
    expect(s.node_info.id).toBe(fresh.id)
    expect(s.node_info.network).toBe('sim-rpc-1')
    expect(s.node_info.version).toMatch(/^0\.37\./)
    expect(s.node_info.channels).toBe('40202122233038606100')
    expect(s.node_info.other).toEqual({ tx_index: 'on', rpc_address: `tcp://127.0.0.1:${fresh.rpcPort}` })
    expect(s.validator_info.pub_key.type).toBe('tendermint/PubKeyEd25519')
    expect(s.validator_info.voting_power).toBe('0')
    expect(s.validator_info.address).toMatch(/^[0-9A-F]{40}$/)
    const block = await rpcGet(fresh.rpcPort, '/block')
    expect(block.body.result).toEqual({ block_id: { hash: '', parts: { total: 0, hash: '' } }, block: null })
  })

  it('int64 as strings, hashes uppercase hex, bytes base64, times RFC3339', async () => {
    const abci = (await rpcGet(producer.rpcPort, '/abci_info')).body.result.response
    expect(abci.last_block_height).toMatch(INT_STRING)
    expect(Buffer.from(abci.last_block_app_hash, 'base64')).toHaveLength(32)
    const s = (await producer.status()).body.result.sync_info
    expect(s.latest_block_height).toMatch(INT_STRING)
    expect(s.earliest_block_height).toBe('1')
    expect(s.latest_block_hash).toMatch(/^[0-9A-F]{64}$/)
    expect(s.latest_block_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/)
    expect(s.catching_up).toBe(false)

    const r = await rpcGet(producer.rpcPort, '/block?height=3')
    expect(r.headers.get('cache-control')).toBe('public, max-age=86400')
    const { block_id, block } = r.body.result
    expect(block_id.hash).toMatch(/^[0-9A-F]{64}$/)
    expect(block_id.parts.total).toBe(1)
    expect(block.header.height).toBe('3')
    expect(block.header.chain_id).toBe('sim-rpc-1')
    expect(block.header.version).toEqual({ block: '11', app: '0' })
    expect(block.header.last_block_id.hash).toMatch(/^[0-9A-F]{64}$/)
    expect(block.data.txs).toHaveLength(5)
    expect(Buffer.from(block.data.txs[0], 'base64')).toHaveLength(256)
    expect(block.evidence).toEqual({ evidence: [] })
    expect(block.last_commit.height).toBe('2')
    expect(block.last_commit.round).toBe(0)
    expect(block.last_commit.signatures[0].block_id_flag).toBe(2)
    expect(Buffer.from(block.last_commit.signatures[0].signature, 'base64')).toHaveLength(64)
    // The block's last_block_id is block 2's id.
    const prev = (await rpcGet(producer.rpcPort, '/block?height=2')).body.result.block_id
    expect(block.header.last_block_id).toEqual(prev)

    const first = (await rpcGet(producer.rpcPort, '/block?height=1')).body.result.block
    expect(first.last_commit).toEqual({
      height: '0',
      round: 0,
      block_id: { hash: '', parts: { total: 0, hash: '' } },
      signatures: [],
    })
    const latest = await rpcGet(producer.rpcPort, '/block')
    expect(latest.headers.get('cache-control')).toBeNull()
  })

  it('block_results in the v0.37 shape, with validator updates at change heights', async () => {
    const r = (await rpcGet(producer.rpcPort, '/block_results?height=3')).body.result
    expect(Object.keys(r)).toEqual([
      'height',
      'txs_results',
      'begin_block_events',
      'end_block_events',
      'validator_updates',
      'consensus_param_updates',
    ])
    expect(r.height).toBe('3')
    expect(r.txs_results).toHaveLength(5)
    expect(r.validator_updates).toBeNull()
    // --valset-interval 5: block 5's EndBlock adds a validator.
    const change = (await rpcGet(producer.rpcPort, '/block_results?height=5')).body.result
    expect(change.validator_updates).toHaveLength(1)
    expect(change.validator_updates[0].pub_key.Sum.type).toBe('tendermint.crypto.PublicKey_Ed25519')
    expect(change.validator_updates[0].power).toBe('5')
    // …which takes effect two heights later.
    const b6 = (await rpcGet(producer.rpcPort, '/block?height=6')).body.result.block.header
    const b7 = (await rpcGet(producer.rpcPort, '/block?height=7')).body.result.block.header
    expect(b6.next_validators_hash).not.toBe(b6.validators_hash)
    expect(b7.validators_hash).toBe(b6.next_validators_hash)
  })

  it('errors as CometBFT returns them: HTTP 500 for URI requests, 200 for JSON-RPC', async () => {
    const h = await producer.height()
    const above = await rpcGet(producer.rpcPort, `/block?height=${h + 1000}`)
    expect(above.status).toBe(500)
    expect(above.body.error.code).toBe(-32603)
    expect(above.body.error.message).toBe('Internal error')
    expect(above.body.error.data).toMatch(
      new RegExp(`^height ${h + 1000} must be less than or equal to the current blockchain height \\d+$`),
    )
    const zero = await rpcGet(producer.rpcPort, '/block_results?height=0')
    expect(zero.status).toBe(500)
    expect(zero.body.error.data).toBe('height must be greater than 0, but got 0')
    const bad = await rpcGet(producer.rpcPort, '/block?height=abc')
    expect(bad.status).toBe(500)
    expect(bad.body.error.code).toBe(-32602)
    expect((await rpcGet(producer.rpcPort, '/nope')).status).toBe(404)
    expect((await rpcGet(producer.rpcPort, '/health')).body).toEqual({ jsonrpc: '2.0', id: -1, result: {} })

    const ok = await rpcPost(producer.rpcPort, {
      jsonrpc: '2.0',
      id: 'x1',
      method: 'block',
      params: { height: '2' },
    })
    expect(ok.status).toBe(200)
    expect(ok.body.id).toBe('x1')
    expect(ok.body.result.block.header.height).toBe('2')
    const err = await rpcPost(producer.rpcPort, {
      jsonrpc: '2.0',
      id: 9,
      method: 'block',
      params: [String(h + 1000)],
    })
    expect(err.status).toBe(200)
    expect(err.body.id).toBe(9)
    expect(err.body.error.code).toBe(-32603)
    const unknown = await rpcPost(producer.rpcPort, { jsonrpc: '2.0', id: 1, method: 'nope' })
    expect(unknown.body.error).toEqual({ code: -32601, message: 'Method not found' })
  })
})
