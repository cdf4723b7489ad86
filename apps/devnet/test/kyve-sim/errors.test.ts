import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KyveSimulator, startKyveSimulator } from '../../src/kyve-sim/index.js'
import { getText } from './helpers.js'

const KEY_NOT_FOUND = '{"code":2,"message":"codespace sdk code 22: key not found","details":[]}'
const NOT_IMPLEMENTED = '{"code":12,"message":"Not Implemented","details":[]}'

describe('error answers (chain >= v1.5)', () => {
  let kyve: KyveSimulator
  beforeAll(async () => {
    kyve = await startKyveSimulator({ pools: [{ id: 1, currentKey: '300', maxBundleSize: 100 }] })
  })
  afterAll(async () => {
    await kyve.stop()
  })

  it('answers an unknown pool with HTTP 500 gRPC code 2 "key not found", not 404', async () => {
    const answer = await getText(`${kyve.url}/kyve/query/v1beta1/pool/2`)
    expect(answer.status).toBe(500)
    expect(answer.text).toBe(KEY_NOT_FOUND)
    expect(answer.headers.get('content-type')).toBe('application/json')
    // The query service answered, so the block height header is there.
    expect(answer.headers.get('grpc-metadata-x-cosmos-block-height')).toMatch(/^[0-9]+$/)
  })

  it('answers a non-numeric id with HTTP 400 and the gateway type-mismatch message', async () => {
    const answer = await getText(`${kyve.url}/kyve/query/v1beta1/pool/abc`)
    expect(answer.status).toBe(400)
    expect(answer.text).toBe(
      '{"code":3,"message":"type mismatch, parameter: id, error: strconv.ParseUint: parsing \\"abc\\": invalid syntax","details":[]}',
    )
    expect(answer.headers.get('grpc-metadata-x-cosmos-block-height')).toBeNull()
    const tooLarge = await getText(`${kyve.url}/kyve/query/v1beta1/pool/18446744073709551616`)
    expect(tooLarge.status).toBe(400)
    expect(JSON.parse(tooLarge.text).message).toBe(
      'type mismatch, parameter: id, error: strconv.ParseUint: parsing "18446744073709551616": value out of range',
    )
  })

  it('parses ids like runtime.Uint64 (strconv.ParseUint base 0): 0x1 and 0b1 are pool 1', async () => {
    for (const id of ['0x1', '0b1', '01']) {
      const answer = await getText(`${kyve.url}/kyve/query/v1beta1/pool/${id}`)
      expect(answer.status, id).toBe(200)
      expect(JSON.parse(answer.text).pool.id).toBe('1')
    }
    expect((await getText(`${kyve.url}/kyve/query/v1beta1/pool/1_`)).status).toBe(400)
  })

  it('answers unregistered routes and non-GET methods with HTTP 501 code 12', async () => {
    for (const path of [
      '/kyve/query/v1beta1/pool',
      '/kyve/query/v1beta1/pool/1/extra',
      '/kyve/query/v1beta1/finalized_bundles/1',
      '/cosmos/bank/v1beta1/balances/kyve1x',
      '/',
    ]) {
      const answer = await getText(`${kyve.url}${path}`)
      expect(answer.status, path).toBe(501)
      expect(answer.text, path).toBe(NOT_IMPLEMENTED)
    }
    const post = await getText(`${kyve.url}/kyve/query/v1beta1/pool/1`, { method: 'POST' })
    expect(post.status).toBe(501)
    expect(post.text).toBe(NOT_IMPLEMENTED)
  })

  it('names the bad path parameter of the bundle routes', async () => {
    const list = await getText(`${kyve.url}/kyve/v1/bundles/x`)
    expect(list.status).toBe(400)
    expect(JSON.parse(list.text).message).toBe(
      'type mismatch, parameter: pool_id, error: strconv.ParseUint: parsing "x": invalid syntax',
    )
    const one = await getText(`${kyve.url}/kyve/v1/bundles/1/-1`)
    expect(one.status).toBe(400)
    expect(JSON.parse(one.text).message).toBe(
      'type mismatch, parameter: id, error: strconv.ParseUint: parsing "-1": invalid syntax',
    )
    const missing = await getText(`${kyve.url}/kyve/v1/bundles/1/7`)
    expect(missing.status).toBe(500)
    expect(missing.text).toBe(KEY_NOT_FOUND)
  })

  it('rejects query parameters the way the gateway and the keepers do', async () => {
    const limit = await getText(`${kyve.url}/kyve/v1/bundles/1?pagination.limit=abc`)
    expect(limit.status).toBe(400)
    expect(limit.text).toBe(
      '{"code":3,"message":"strconv.ParseUint: parsing \\"abc\\": invalid syntax","details":[]}',
    )
    const disabled = await getText(`${kyve.url}/kyve/query/v1beta1/pools?disabled=maybe`)
    expect(disabled.status).toBe(400)
    expect(JSON.parse(disabled.text).message).toBe('strconv.ParseBool: parsing "maybe": invalid syntax')
    const index = await getText(`${kyve.url}/kyve/v1/bundles/1?index=ten`)
    expect(index.status).toBe(400)
    expect(JSON.parse(index.text)).toEqual({
      code: 3,
      message: 'index needs to be an unsigned integer',
      details: [],
    })
    const both = await getText(
      `${kyve.url}/kyve/v1/bundles/1?pagination.offset=1&pagination.key=AAAAAAAAAAE=`,
    )
    expect(both.status).toBe(500)
    expect(JSON.parse(both.text)).toEqual({
      code: 2,
      message: 'invalid request, either offset or key is expected, got both',
      details: [],
    })
    const poolsBoth = await getText(
      `${kyve.url}/kyve/query/v1beta1/pools?pagination.offset=1&pagination.key=AAAAAAAAAAE=`,
    )
    expect(poolsBoth.status).toBe(500)
    expect(JSON.parse(poolsBoth.text).code).toBe(13)
  })
})

describe('error answers (chain v1.4)', () => {
  it('indents error bodies like the rest of the v1.4 API', async () => {
    const kyve = await startKyveSimulator({ apiVersion: '1.4', pools: [{ id: 1 }] })
    try {
      const answer = await getText(`${kyve.url}/kyve/query/v1beta1/pool/9`)
      expect(answer.status).toBe(500)
      expect(answer.text).toBe(
        '{\n  "code": 2,\n  "message": "codespace sdk code 22: key not found",\n  "details": []\n}',
      )
      const route = await getText(`${kyve.url}/nope`)
      expect(route.status).toBe(501)
      expect(route.text).toBe('{\n  "code": 12,\n  "message": "Not Implemented",\n  "details": []\n}')
    } finally {
      await kyve.stop()
    }
  })
})
