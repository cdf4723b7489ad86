import { eventually } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  InvalidFaultError,
  type KyveSimulator,
  type KyveSimulatorOptions,
  startKyveSimulator,
  UnknownPoolError,
} from '../../src/kyve-sim/index.js'
import { getJson, getText, sendJson, shapeProblems } from './helpers.js'
import { POOL_RESPONSE_V15 } from './shapes.js'

let simulator: KyveSimulator | undefined
afterEach(async () => {
  await simulator?.stop()
  simulator = undefined
})

async function start(options: Partial<KyveSimulatorOptions> = {}): Promise<KyveSimulator> {
  simulator = await startKyveSimulator({
    pools: [
      { id: 1, currentKey: '1000' },
      { id: 2, currentKey: '2000' },
    ],
    ...options,
  })
  return simulator
}

const poolUrl = (kyve: KyveSimulator, id: number) => `${kyve.url}/kyve/query/v1beta1/pool/${id}`

describe('faults', () => {
  it('error500 answers a gRPC status body that is not "key not found"; pool-bound faults spare other pools', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'error500', poolId: 1 })
    const failed = await getText(poolUrl(kyve, 1))
    expect(failed.status).toBe(500)
    expect(JSON.parse(failed.text)).toEqual({
      code: 13,
      message: 'simulated fault: internal error',
      details: [],
    })
    expect((await getText(poolUrl(kyve, 2))).status).toBe(200)
    expect((await getText(`${kyve.url}/kyve/query/v1beta1/pools`)).status).toBe(200)
    expect((await getText(`${kyve.url}/kyve/v1/bundles/1`)).status).toBe(500)
    expect(kyve.clearFaults(1)).toBe(1)
    expect((await getText(poolUrl(kyve, 1))).status).toBe(200)
  })

  it('a global fault hits every route, including node_info', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'error500', message: 'upstream down' })
    for (const path of [
      '/kyve/query/v1beta1/pool/2',
      '/kyve/query/v1beta1/pools',
      '/cosmos/base/tendermint/v1beta1/node_info',
    ]) {
      const answer = await getText(`${kyve.url}${path}`)
      expect(answer.status, path).toBe(500)
      expect(JSON.parse(answer.text).message).toBe('upstream down')
    }
    kyve.clearFaults()
    const info = await getJson<{ default_node_info: { network: string } }>(
      `${kyve.url}/cosmos/base/tendermint/v1beta1/node_info`,
    )
    expect(info.body.default_node_info.network).toBe('kyve-1')
  })

  it('times limits a fault to the next N matching requests', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'error500', poolId: 1, times: 2 })
    expect((await getText(poolUrl(kyve, 2))).status).toBe(200)
    expect((await getText(poolUrl(kyve, 1))).status).toBe(500)
    expect(kyve.faults()[0]?.remaining).toBe(1)
    expect((await getText(poolUrl(kyve, 1))).status).toBe(500)
    expect(kyve.faults()).toEqual([])
    expect((await getText(poolUrl(kyve, 1))).status).toBe(200)
  })

  it('garbage answers 200 with a body that is not JSON', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'garbage', poolId: 1 })
    const answer = await getText(poolUrl(kyve, 1))
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toContain('text/html')
    expect(() => JSON.parse(answer.text)).toThrow()
  })

  it('schema answers 200 with valid JSON of the wrong shape', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'schema', poolId: 1, routes: ['pool'] })
    const answer = await getJson<{ pool: unknown }>(poolUrl(kyve, 1))
    expect(answer.status).toBe(200)
    expect(shapeProblems(answer.body.pool, POOL_RESPONSE_V15)).not.toEqual([])
    expect(typeof (answer.body.pool as { data: { current_key: unknown } }).data.current_key).toBe('number')
  })

  it('regress lowers current_key on the pool routes only', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'regress', poolId: 1, regressBy: 50, routes: ['pool', 'pools'] })
    const pool = await getJson<{ pool: { data: { current_key: string } } }>(poolUrl(kyve, 1))
    expect(pool.body.pool.data.current_key).toBe('950')
    expect(shapeProblems(pool.body.pool, POOL_RESPONSE_V15)).toEqual([])
    const list = await getJson<{ pools: Array<{ id: string; data: { current_key: string } }> }>(
      `${kyve.url}/kyve/query/v1beta1/pools`,
    )
    expect(list.body.pools.map((entry) => [entry.id, entry.data.current_key])).toEqual([
      ['1', '950'],
      ['2', '2000'],
    ])
    const bundles = await getJson<{ finalized_bundles: Array<{ to_key: string }> }>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.limit=1&pagination.reverse=true`,
    )
    expect(bundles.body.finalized_bundles[0]?.to_key).toBe('1000')
  })

  it('notfound makes the pool vanish: key not found, empty bundle list, absent from /pools', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'notfound', poolId: 2, routes: ['pool', 'pools', 'bundles', 'bundle'] })
    const pool = await getText(poolUrl(kyve, 2))
    expect(pool.status).toBe(500)
    expect(pool.text).toBe('{"code":2,"message":"codespace sdk code 22: key not found","details":[]}')
    const bundles = await getText(`${kyve.url}/kyve/v1/bundles/2`)
    expect(bundles.text).toBe('{"finalized_bundles":[],"pagination":{"next_key":null,"total":"0"}}')
    expect((await getText(`${kyve.url}/kyve/v1/bundles/2/0`)).status).toBe(500)
    const list = await getJson<{ pools: Array<{ id: string }> }>(`${kyve.url}/kyve/query/v1beta1/pools`)
    expect(list.body.pools.map((entry) => entry.id)).toEqual(['1'])
  })

  it('delay holds one answer without holding the others', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'delay', poolId: 1, delayMs: 1000 })
    const order: string[] = []
    const begun = performance.now()
    const slow = getText(poolUrl(kyve, 1)).then((answer) => {
      order.push('pool 1')
      return { answer, elapsed: performance.now() - begun }
    })
    const fast = getText(poolUrl(kyve, 2)).then(() => order.push('pool 2'))
    const [{ answer, elapsed }] = await Promise.all([slow, fast])
    expect(answer.status).toBe(200)
    expect(order).toEqual(['pool 2', 'pool 1'])
    // Not a timing target: a delay fault that answered before its delay would not be a delay.
    expect(elapsed).toBeGreaterThanOrEqual(990)
  })

  it('delay combines with another fault: late, then failing', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'delay', poolId: 1, delayMs: 100 })
    kyve.setFault({ kind: 'error500', poolId: 1 })
    const begun = performance.now()
    const answer = await getText(poolUrl(kyve, 1))
    expect(answer.status).toBe(500)
    expect(performance.now() - begun).toBeGreaterThanOrEqual(90)
  })

  it('stop() ends requests held by a delay', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'delay', delayMs: 60_000 })
    const held = getText(poolUrl(kyve, 1)).then(
      () => 'answered',
      () => 'failed',
    )
    await eventually(() => expect(kyve.stats().total).toBe(1))
    await kyve.stop()
    expect(await held).toBe('failed')
  })

  it('rejects impossible faults with a message naming the field, and keeps none of them', async () => {
    const kyve = await start()
    expect(() => kyve.setFault({ kind: 'delay' })).toThrow(InvalidFaultError)
    expect(() => kyve.setFault({ kind: 'delay' })).toThrow(/delayMs: required for a delay fault/)
    expect(() => kyve.setFault({ kind: 'error500', regressBy: 3 })).toThrow(/regressBy: only meaningful/)
    expect(() => kyve.setFault({ kind: 'explode' } as never)).toThrow(/kind/)
    expect(() => kyve.setFault({ kind: 'error500', poolId: 'one' })).toThrow(/poolId/)
    expect(kyve.faults()).toEqual([])
  })
})

describe('request counting', () => {
  it('counts requests per route and per pool id; admin requests do not count; reset starts over', async () => {
    const kyve = await start()
    for (let i = 0; i < 3; i++) await getText(poolUrl(kyve, 1))
    await getText(poolUrl(kyve, 2))
    await getText(poolUrl(kyve, 7))
    await getText(`${kyve.url}/kyve/v1/bundles/1`)
    await getText(`${kyve.url}/kyve/v1/bundles/1/0`)
    await getText(`${kyve.url}/kyve/query/v1beta1/pools`)
    await getText(`${kyve.url}/kyve/query/v1beta1/pool/abc`)
    await getText(`${kyve.url}/no/such/route`)
    await getText(`${kyve.url}/admin/stats`)
    const stats = kyve.stats()
    expect(stats.total).toBe(10)
    expect(stats.byRoute).toEqual({ pool: 6, pools: 1, bundles: 1, bundle: 1, node_info: 0, unknown: 1 })
    expect(stats.byPool['1']).toEqual({ total: 5, byRoute: { pool: 3, bundles: 1, bundle: 1 } })
    expect(stats.byPool['2']).toEqual({ total: 1, byRoute: { pool: 1, bundles: 0, bundle: 0 } })
    expect(stats.byPool['7']?.total).toBe(1)
    expect(Object.keys(stats.byPool).sort()).toEqual(['1', '2', '7'])
    kyve.resetStats()
    const reset = kyve.stats()
    expect(reset.total).toBe(0)
    expect(reset.byPool['1']).toEqual({ total: 0, byRoute: { pool: 0, bundles: 0, bundle: 0 } })
    expect(reset.byPool['7']).toBeUndefined()
  })

  it('counts requests a fault answered', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'garbage' })
    await getText(poolUrl(kyve, 1))
    expect(kyve.stats().byPool['1']?.byRoute.pool).toBe(1)
  })
})

describe('admin API over HTTP', () => {
  it('sets, lists and clears faults', async () => {
    const kyve = await start()
    const created = await sendJson(`${kyve.url}/admin/faults`, 'POST', {
      kind: 'error500',
      poolId: '1',
      times: 5,
    })
    expect(created.status).toBe(201)
    const fault = (created.body as { fault: { id: string; kind: string; poolId: string; remaining: number } })
      .fault
    expect(fault).toMatchObject({
      kind: 'error500',
      poolId: '1',
      remaining: 5,
      routes: ['pool', 'bundles', 'bundle'],
    })
    await sendJson(`${kyve.url}/admin/faults`, 'POST', { kind: 'regress', poolId: 2, regressBy: 10 })
    await sendJson(`${kyve.url}/admin/faults`, 'POST', { kind: 'delay', delayMs: 1 })
    expect((await getText(poolUrl(kyve, 1))).status).toBe(500)
    const listed = await getJson<{ faults: Array<{ id: string }> }>(`${kyve.url}/admin/faults`)
    expect(listed.body.faults).toHaveLength(3)
    expect((await sendJson(`${kyve.url}/admin/faults/${fault.id}`, 'DELETE')).body).toEqual({ removed: 1 })
    expect((await sendJson(`${kyve.url}/admin/faults/${fault.id}`, 'DELETE')).status).toBe(404)
    expect((await sendJson(`${kyve.url}/admin/faults?poolId=2`, 'DELETE')).body).toEqual({ removed: 1 })
    expect((await sendJson(`${kyve.url}/admin/faults`, 'DELETE')).body).toEqual({ removed: 1 })
    expect(kyve.faults()).toEqual([])
  })

  it('answers 400 naming the problem for a bad fault or pool change, and changes nothing', async () => {
    const kyve = await start()
    const fault = await sendJson(`${kyve.url}/admin/faults`, 'POST', { kind: 'regress' })
    expect(fault.status).toBe(400)
    expect((fault.body as { error: string }).error).toContain('regressBy: required for a regress fault')
    const notJson = await fetch(`${kyve.url}/admin/faults`, { method: 'POST', body: '{kind:' })
    expect(notJson.status).toBe(400)
    expect(((await notJson.json()) as { error: string }).error).toContain('not JSON')
    const patch = await sendJson(`${kyve.url}/admin/pool/1`, 'POST', { currentKey: '12x', paused: true })
    expect(patch.status).toBe(400)
    expect((patch.body as { error: string }).error).toContain('expected a decimal block height')
    const unknownField = await sendJson(`${kyve.url}/admin/pool/1`, 'POST', { current_key: '5' })
    expect(unknownField.status).toBe(400)
    expect(kyve.pool(1)).toMatchObject({ currentKey: '1000', paused: false })
    expect(kyve.faults()).toEqual([])
  })

  it('reads and changes pools', async () => {
    const kyve = await start()
    const pools = await getJson<{ pools: Array<{ id: string; currentKey: string }> }>(
      `${kyve.url}/admin/pools`,
    )
    expect(pools.body.pools.map((pool) => [pool.id, pool.currentKey])).toEqual([
      ['1', '1000'],
      ['2', '2000'],
    ])
    const changed = await sendJson(`${kyve.url}/admin/pool/2`, 'POST', { currentKey: '2500', paused: true })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ id: '2', currentKey: '2500', paused: true, totalBundles: 2 })
    const stepped = await sendJson(`${kyve.url}/admin/pool/2`, 'POST', { tick: true, chainHeight: 2510 })
    expect(stepped.body).toMatchObject({ proposal: { fromKey: '2501', toKey: '2510' } })
    const pool = await getJson<{ pool: { data: { current_key: string } } }>(poolUrl(kyve, 2))
    expect(pool.body.pool.data.current_key).toBe('2500')
    expect((await getText(`${kyve.url}/admin/pool/9`)).status).toBe(404)
    expect(() => kyve.pool(9)).toThrow(UnknownPoolError)
    expect((await getText(`${kyve.url}/admin/nothing`)).status).toBe(404)
    expect((await sendJson(`${kyve.url}/admin/pools`, 'POST', {})).status).toBe(405)
  })

  it('serves and resets the request counts', async () => {
    const kyve = await start()
    await getText(poolUrl(kyve, 1))
    const stats = await getJson<{ total: number; byPool: Record<string, { total: number }> }>(
      `${kyve.url}/admin/stats`,
    )
    expect(stats.body.total).toBe(1)
    expect(stats.body.byPool['1']?.total).toBe(1)
    const reset = await sendJson(`${kyve.url}/admin/stats/reset`, 'POST')
    expect(reset.status).toBe(200)
    expect((reset.body as { total: number }).total).toBe(0)
    expect(kyve.stats().total).toBe(0)
  })
})
