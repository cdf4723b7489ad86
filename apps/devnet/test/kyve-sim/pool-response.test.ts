import { afterEach, describe, expect, it } from 'vitest'
import { moduleAddress } from '../../src/kyve-sim/bech32.js'
import {
  type KyveSimulator,
  type KyveSimulatorOptions,
  startKyveSimulator,
} from '../../src/kyve-sim/index.js'
import { getJson, getText, shapeProblems } from './helpers.js'
import { POOL_RESPONSE_V14, POOL_RESPONSE_V15 } from './shapes.js'

let simulator: KyveSimulator | undefined
afterEach(async () => {
  await simulator?.stop()
  simulator = undefined
})

async function start(options: KyveSimulatorOptions): Promise<KyveSimulator> {
  simulator = await startKyveSimulator(options)
  return simulator
}

interface PoolBody {
  pool: {
    id: string
    data: Record<string, unknown>
    bundle_proposal: Record<string, unknown>
    status: string
    account: string
    fundings: Array<{ amounts: unknown[]; total_funded: Array<{ amount: string }> }>
  }
}

describe('GET /kyve/query/v1beta1/pool/{id}, chain >= v1.5', () => {
  it('answers compact JSON with every field, typed and ordered as the proto declares them', async () => {
    const kyve = await start({ pools: [{ id: 1, currentKey: '1000' }] })
    const answer = await getText(`${kyve.url}/kyve/query/v1beta1/pool/1`)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('application/json')
    expect(answer.headers.get('grpc-metadata-x-cosmos-block-height')).toMatch(/^[1-9][0-9]*$/)
    // Compact: exactly what JSON.stringify writes, no newline, no indentation, no spaces after separators.
    expect(answer.text).toBe(JSON.stringify(JSON.parse(answer.text)))
    const body = JSON.parse(answer.text) as PoolBody
    expect(Object.keys(body)).toEqual(['pool'])
    expect(shapeProblems(body.pool, POOL_RESPONSE_V15)).toEqual([])
    expect(body.pool.data).toMatchObject({
      id: '1',
      runtime: '@kyvejs/tendermint',
      start_key: '1',
      current_key: '1000',
      current_index: '1000',
      total_bundles: '1',
      inflation_share_weight: '1.000000000000000000',
      end_key: '',
    })
    expect(body.pool.data.current_summary).toMatch(/^\{"merkle_root":"[0-9a-f]{64}"\}$/)
    expect(body.pool.status).toBe('POOL_STATUS_ACTIVE')
    expect(body.pool.account).toBe(moduleAddress('pool/1', 'kyve'))
    expect(JSON.parse(body.pool.data.config as string)).toEqual({
      network: 'osmosis-1',
      rpc: 'http://localhost:26657',
    })
  })

  it('shows a fresh pool: current_key "" and the zero-value bundle proposal', async () => {
    const kyve = await start({ pools: [{ id: 3 }] })
    const { body } = await getJson<PoolBody>(`${kyve.url}/kyve/query/v1beta1/pool/3`)
    expect(shapeProblems(body.pool, POOL_RESPONSE_V15)).toEqual([])
    expect(body.pool.data).toMatchObject({
      current_key: '',
      current_summary: '',
      current_index: '0',
      total_bundles: '0',
    })
    expect(body.pool.bundle_proposal).toEqual({
      pool_id: '3',
      storage_id: '',
      uploader: '',
      next_uploader: '',
      data_size: '0',
      bundle_size: '0',
      to_key: '',
      bundle_summary: '',
      data_hash: '',
      updated_at: '0',
      voters_valid: [],
      voters_invalid: [],
      voters_abstain: [],
      from_key: '',
      storage_provider_id: 0,
      compression_id: 0,
    })
  })

  it('charges the funder per finalized bundle', async () => {
    const kyve = await start({ pools: [{ id: 1, maxBundleSize: 10 }] })
    for (let i = 0; i < 3; i++) await kyve.setPool(1, { tick: true, chainHeight: 100 })
    const { body } = await getJson<PoolBody>(`${kyve.url}/kyve/query/v1beta1/pool/1`)
    expect(body.pool.data.total_bundles).toBe('2')
    expect(body.pool.fundings[0]?.total_funded).toEqual([{ denom: 'ukyve', amount: '20000000' }])
  })

  it('escapes <, > and & the way Go encoding/json does', async () => {
    const kyve = await start({ pools: [{ id: 1, name: 'Osmosis <test> & co' }] })
    const { text } = await getText(`${kyve.url}/kyve/query/v1beta1/pool/1`)
    expect(text).toContain('"name":"Osmosis \\u003ctest\\u003e \\u0026 co"')
    expect((JSON.parse(text) as PoolBody).pool.data.name).toBe('Osmosis <test> & co')
  })

  it('computes the status on every query: disabled, end key reached', async () => {
    const kyve = await start({
      pools: [
        { id: 1, currentKey: '150', endKey: '150' },
        { id: 2, disabled: true },
      ],
    })
    const one = await getJson<PoolBody>(`${kyve.url}/kyve/query/v1beta1/pool/1`)
    expect(one.body.pool.status).toBe('POOL_STATUS_END_KEY_REACHED')
    expect(one.body.pool.data.end_key).toBe('150')
    const two = await getJson<PoolBody>(`${kyve.url}/kyve/query/v1beta1/pool/2`)
    expect(two.body.pool.status).toBe('POOL_STATUS_DISABLED')
    expect(two.body.pool.data.disabled).toBe(true)
    await kyve.setPool(2, { disabled: false })
    const again = await getJson<PoolBody>(`${kyve.url}/kyve/query/v1beta1/pool/2`)
    expect(again.body.pool.status).toBe('POOL_STATUS_ACTIVE')
  })
})

describe('GET /kyve/query/v1beta1/pool/{id}, chain v1.4', () => {
  it('answers the v1.4 field set, indented by two spaces the way gogoproto jsonpb writes it', async () => {
    const kyve = await start({ apiVersion: '1.4', pools: [{ id: 1, currentKey: '1000' }] })
    await kyve.setPool(1, { tick: true, chainHeight: 1010 })
    const { status, text } = await getText(`${kyve.url}/kyve/query/v1beta1/pool/1`)
    expect(status).toBe(200)
    expect(
      text.startsWith(
        '{\n  "pool": {\n    "id": "1",\n    "data": {\n      "id": "1",\n      "name": "Osmosis",\n',
      ),
    ).toBe(true)
    expect(text.endsWith('\n  }\n}')).toBe(true)
    // jsonpb writes an empty repeated field as "[", newline, indent, "]"; a filled one element by element.
    expect(text).toContain('\n      "voters_invalid": [\n      ],\n')
    expect(text).toMatch(/\n {6}"voters_valid": \[\n {8}"kyve1[0-9a-z]{38}"\n {6}\],\n/)
    expect(text).toContain('\n      "protocol": {\n        "version": "1.2.3",\n')
    expect(text).toContain('\n      "current_compression_id": 1\n    },\n    "bundle_proposal": {\n')
    expect(text).not.toContain('end_key')
    expect(text).not.toContain('fundings')
    const body = JSON.parse(text) as PoolBody
    expect(shapeProblems(body.pool, POOL_RESPONSE_V14)).toEqual([])
    expect(body.pool.data.inflation_share_weight).toBe('2500000000')
    expect(body.pool.bundle_proposal).toMatchObject({ from_key: '1001', to_key: '1010', bundle_size: '10' })
  })
})
