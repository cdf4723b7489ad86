import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { inspect } from 'node:util'
import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DesiredStateSignatureError,
  FLEET_KEY_ENV,
  FleetKey,
  fleetKeyForWorkerThread,
  fleetKeyHmac,
  InvalidFleetKeyError,
  keysOf,
  type RedisClient,
  readDesiredState,
  signDesiredState,
  verifyDesiredState,
  writeDesiredState,
} from '../src/index.js'
import { connect, makeDesired } from './fixtures.js'

const hexKey = randomBytes(32).toString('hex')
const key = FleetKey.parse(hexKey)
const otherKey = FleetKey.parse(randomBytes(32).toString('base64'))

describe('FleetKey', () => {
  it('accepts 32+ random bytes as hex, base64 or base64url, ignoring surrounding whitespace', () => {
    expect(FleetKey.parse(`  ${hexKey}\n`).length).toBe(32)
    expect(FleetKey.parse(randomBytes(48).toString('base64')).length).toBe(48)
    expect(FleetKey.parse(randomBytes(32).toString('base64url')).length).toBe(32)
  })

  it.each([
    ['', 'is empty'],
    ['abc', 'odd number of digits'],
    ['deadbeef', 'is 4 bytes, at least 32 are needed'],
    [randomBytes(16).toString('base64'), 'is 16 bytes'],
    ['0'.repeat(64), 'repeats one byte value'],
    ['not a key!', 'neither hex nor base64'],
  ])('rejects %j and says how to make a good one', (text, reason) => {
    expect(() => FleetKey.parse(text)).toThrow(InvalidFleetKeyError)
    expect(() => FleetKey.parse(text)).toThrow(reason)
    expect(() => FleetKey.parse(text)).toThrow('openssl rand -hex 32')
  })

  it('names where a bad key came from', () => {
    expect(FleetKey.parse(hexKey, FLEET_KEY_ENV).length).toBe(32)
    expect(() => FleetKey.parse('short', FLEET_KEY_ENV)).toThrow('GHOSTFLEET_FLEET_KEY')
  })

  it('never shows its bytes', () => {
    for (const shown of [String(key), JSON.stringify({ key }), inspect(key), inspect({ key })]) {
      expect(shown).toContain('FleetKey(32 bytes)')
      expect(shown).not.toContain(hexKey.slice(0, 16))
    }
  })

  it('crosses to a worker thread as hex and is the same key there', async () => {
    const { Worker } = await import('node:worker_threads')
    const worker = new Worker(
      "const { workerData, parentPort } = require('node:worker_threads');" +
        "parentPort.postMessage(require('node:crypto').createHmac('sha256', Buffer.from(workerData, 'hex')).update('m').digest('hex'))",
      { eval: true, workerData: fleetKeyForWorkerThread(key) },
    )
    const [signed] = (await once(worker, 'message')) as [string]
    expect(signed).toBe(fleetKeyHmac(key, 'm').toString('hex'))
    expect(FleetKey.parse(fleetKeyForWorkerThread(key)).length).toBe(32)
  })
})

describe('signDesiredState / verifyDesiredState', () => {
  it('round-trips, and any change to a signed field breaks the signature', () => {
    const signed = signDesiredState(makeDesired(), key)
    expect(signed.signature).toMatch(/^[0-9a-f]{64}$/)
    expect(verifyDesiredState(signed, key)).toBe(signed)
    for (const tampered of [
      { ...signed, pruneToHeight: 1 },
      { ...signed, sidecarId: 'osmosis-b' },
      { ...signed, epoch: 2 },
      { ...signed, generation: 2 },
      { ...signed, mode: 'normal' as const },
    ]) {
      expect(() => verifyDesiredState(tampered, key)).toThrow(DesiredStateSignatureError)
    }
    expect(() => verifyDesiredState(signed, otherKey)).toThrow('does not match')
    expect(() => verifyDesiredState({ ...signed, signature: 'ab' }, key)).toThrow('does not match')
    expect(() => verifyDesiredState(makeDesired(), key)).toThrow('no signature')
  })
})

describe('signed desired states through Redis', () => {
  let server: TestRedis
  let tracker: RedisClient
  let sidecar: RedisClient
  beforeAll(async () => {
    server = await startRedis()
    tracker = connect({ role: 'tracker', url: server.url })
    sidecar = connect({ role: 'sidecar', url: server.url })
    await eventually(() => expect(sidecar.status).toBe('ready'))
  })
  afterAll(async () => {
    await server.stop()
  })
  beforeEach(async () => {
    await tracker.flushall()
    await tracker.set(keysOf(tracker).epoch, '1')
  })

  it('a state signed with the fleet key is accepted', async () => {
    await writeDesiredState(tracker, makeDesired(), { fleetKey: key })
    const ds = await readDesiredState(sidecar, 'osmosis-a', { fleetKey: key })
    expect(ds?.signature).toMatch(/^[0-9a-f]{64}$/)
  })

  it('a forged change to a signed state is rejected', async () => {
    await writeDesiredState(tracker, makeDesired({ pruneToHeight: 500_000 }), { fleetKey: key })
    // Someone with Redis access but without the key raises the prune height.
    await tracker.hset(keysOf(tracker).desired('osmosis-a'), 'pruneToHeight', '999999')
    const error = await readDesiredState(sidecar, 'osmosis-a', { fleetKey: key }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DesiredStateSignatureError)
    expect(error).toMatchObject({ code: 'bad-signature' })
  })

  it('an unsigned state is rejected when a key is configured, accepted when none is', async () => {
    await writeDesiredState(tracker, makeDesired())
    await expect(readDesiredState(sidecar, 'osmosis-a', { fleetKey: key })).rejects.toMatchObject({
      code: 'unsigned',
    })
    expect(await readDesiredState(sidecar, 'osmosis-a')).not.toBeNull()
  })

  it('a state signed with another key is rejected', async () => {
    await writeDesiredState(tracker, makeDesired(), { fleetKey: otherKey })
    await expect(readDesiredState(sidecar, 'osmosis-a', { fleetKey: key })).rejects.toThrow(
      DesiredStateSignatureError,
    )
  })
})
