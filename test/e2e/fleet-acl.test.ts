/**
 * The fleet under Redis ACLs, with real processes: the users come from `ghostfleet-tracker acl` (the real CLI),
 * are loaded with the real `redis-cli`, and Redis' `default` user is switched off, so every process can only do
 * what its own user allows. One tracker (user gf-tracker, credentials in GHOSTFLEET_REDIS_URL) and two sidecars
 * (users gf-sidecar-<id>, credentials apart from the URL in GHOSTFLEET_REDIS_USERNAME/PASSWORD), signing on.
 *
 *   1. every sidecar follows the tracker, and no password shows in /status, /v1/fleet or any log;
 *   2. the pool stops: both nodes go ghost and are pruned (reports, desired states, notifications, pool progress
 *      and the lease all go through the ACLs), and Redis' ACL LOG shows no command of the fleet refused;
 *   3. a sidecar's credentials cannot read or write the other sidecar's keys or the tracker's (NOPERM).
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { closeRedis, createRedis, keysOf, type RedisClient } from '@ghostfleet/coordination'
import {
  FLEET_POOL_ID,
  type KyveSimulator,
  type LocalFleet,
  resolveFleetBinaries,
  type SidecarInfo,
  type TrackerInfo,
} from '@ghostfleet/devnet'
import { eventually, getJson, type Json, nodeStatus, runProcess, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFleet, poolHeight, sidecarStatus } from './helpers/fleet-harness.js'

const FLEET_KEY_HEX = randomBytes(32).toString('hex')
const SIDECAR_IDS = ['acl-sc-1', 'acl-sc-2'] as const
const ADMIN_PASSWORD = randomBytes(16).toString('hex')

let teardown: (() => Promise<void>) | undefined
let fleet: LocalFleet
let dir: string
let server: TestRedis
let kyve: KyveSimulator
let tracker: TrackerInfo
const sidecars: SidecarInfo[] = []
/** user name → password, as `ghostfleet-tracker acl --write-passwords` wrote them. */
const passwords = new Map<string, string>()
const clients: RedisClient[] = []

function password(user: string): string {
  const found = passwords.get(user)
  if (found === undefined) throw new Error(`no password for ${user}`)
  return found
}

function login(username: string): RedisClient {
  const client = createRedis({
    role: 'tracker',
    url: `redis://127.0.0.1:${server.port}`,
    username,
    password: username === 'gf-admin' ? ADMIN_PASSWORD : password(username),
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
  })
  clients.push(client)
  return client
}

async function redisCli(args: string[], stdinFile?: string): Promise<string> {
  const quoted = args.map((arg) => `'${arg}'`).join(' ')
  const run = await runProcess('sh', [
    '-c',
    `redis-cli -p ${server.port} ${quoted}${stdinFile === undefined ? '' : ` < '${stdinFile}'`}`,
  ])
  if (run.code !== 0) throw new Error(`redis-cli failed: ${run.stderr}`)
  return run.stdout
}

beforeAll(async () => {
  const created = await createFleet('gf-e2e-acl-')
  teardown = created.teardown
  fleet = created.fleet
  dir = created.dir.path
  server = await fleet.startRedis()

  // The users, exactly as an operator makes them.
  const generated = path.join(dir, 'acl-passwords')
  const acl = await runProcess(process.execPath, [
    resolveFleetBinaries().tracker,
    'acl',
    '--sidecar',
    ...SIDECAR_IDS,
    '--monitor',
    '--write-passwords',
    generated,
  ])
  expect(acl.code, acl.stderr).toBe(0)
  const commands = path.join(dir, 'acl-commands.redis')
  await writeFile(commands, acl.stdout)
  expect(await redisCli([], commands)).toBe('OK\nOK\nOK\nOK\n')
  for (const line of (await readFile(generated, 'utf8')).trim().split('\n')) {
    const [user, secret] = line.split(' ')
    passwords.set(user as string, secret as string)
  }
  // An admin for the test's own look at Redis; nobody else may use the default user from now on.
  await redisCli(['ACL', 'SETUSER', 'gf-admin', 'on', `>${ADMIN_PASSWORD}`, '~*', '&*', '+@all'])
  await redisCli(['--user', 'gf-admin', '--pass', ADMIN_PASSWORD, 'ACL', 'SETUSER', 'default', 'off'])

  await fleet.startProducer(200)
  kyve = await fleet.startKyve({ bundleEveryMs: 50, paused: false })
  tracker = await fleet.startTracker({
    id: 'acl-tracker',
    pruningIntervalHours: 0.5,
    leaseTtlMs: 3_000,
    refreshSeconds: 3,
    env: {
      GHOSTFLEET_FLEET_KEY: FLEET_KEY_HEX,
      GHOSTFLEET_REDIS_URL: `redis://gf-tracker:${password('gf-tracker')}@127.0.0.1:${server.port}`,
    },
  })
  for (const id of SIDECAR_IDS) {
    sidecars.push(
      await fleet.startSidecar({
        id,
        pruningIntervalHours: 0.5,
        trackerTimeoutSeconds: 8,
        env: {
          GHOSTFLEET_FLEET_KEY: FLEET_KEY_HEX,
          GHOSTFLEET_REDIS_USERNAME: `gf-sidecar-${id}`,
          GHOSTFLEET_REDIS_PASSWORD: password(`gf-sidecar-${id}`),
        },
      }),
    )
  }
}, 240_000)

afterAll(async () => {
  await Promise.all(clients.map((client) => closeRedis(client)))
  await teardown?.()
}, 120_000)

const statuses = (): Promise<Json[]> => Promise.all(sidecars.map((s) => sidecarStatus(s)))

describe.sequential('a fleet whose every process has its own Redis user', () => {
  it('follows the tracker, and shows no password anywhere', async () => {
    await eventually(
      async () => {
        for (const [index, s] of (await statuses()).entries()) {
          expect(s['fleet']).toMatchObject({
            decidedBy: 'tracker',
            connected: true,
            signatures: 'required',
            redisUser: `gf-sidecar-${SIDECAR_IDS[index]}`,
          })
          expect(s['fleet']['applied']['epoch']).toBeGreaterThan(0)
          expect(s['mode']).toBe('normal')
        }
      },
      { timeoutMs: 90_000, intervalMs: 500, description: 'every sidecar to follow the tracker' },
    )
    const shown = [
      JSON.stringify(await statuses()),
      JSON.stringify((await getJson(`${tracker.url}/v1/fleet`))?.body),
      await readFile(tracker.logFile, 'utf8'),
      ...(await Promise.all(sidecars.map((s) => readFile(s.logFile, 'utf8')))),
    ].join('\n')
    for (const secret of passwords.values()) expect(shown).not.toContain(secret)
  }, 120_000)

  it('goes ghost and is pruned when the pool stops, with no command of the fleet refused', async () => {
    await kyve.setPool(FLEET_POOL_ID, { paused: true })
    const pausedAt = poolHeight(kyve)
    await eventually(
      async () => {
        for (const s of await statuses()) {
          expect(s['mode']).toBe('ghost')
          expect(s['pruning']['lastPrune']?.['toHeight']).toBe(pausedAt - 1)
          expect(s['fleet']['decidedBy']).toBe('tracker')
        }
      },
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        description: 'every node to go ghost and be pruned by the tracker',
      },
    )
    for (const s of sidecars) {
      await eventually(async () => expect((await nodeStatus(s.rpc))?.base).toBe(pausedAt - 1))
    }
    // Redis records every refused command; a fleet process that needed a command its user lacks shows here.
    const admin = login('gf-admin')
    const log = (await admin.call('ACL', 'LOG')) as unknown[]
    expect(JSON.stringify(log)).not.toMatch(/gf-tracker|gf-sidecar-/)
  }, 180_000)

  it("keeps a sidecar's credentials out of the other sidecar's and the tracker's keys (NOPERM)", async () => {
    const one = login('gf-sidecar-acl-sc-1')
    await eventually(() => expect(one.status).toBe('ready'))
    const keys = keysOf(one)
    const noPerm = async (attempt: Promise<unknown>) => await expect(attempt).rejects.toThrow(/NOPERM/)
    await noPerm(one.hgetall(keys.desired('acl-sc-2')))
    await noPerm(one.hset(keys.desired('acl-sc-2'), 'mode', '"normal"'))
    // Siblings' reports are readable (gateway routing reads them without a tracker), never writable.
    await noPerm(one.hset(keys.report('acl-sc-2'), 'nodeHeight', '1'))
    await noPerm(one.del(keys.report('acl-sc-2')))
    await noPerm(one.hset(keys.desired('acl-sc-1'), 'pruneToHeight', '1'))
    await noPerm(one.set(keys.leader, 'acl-sc-1:forged'))
    await noPerm(one.incr(keys.epoch))
    await noPerm(one.xrange(keys.reports, '-', '+'))
    await noPerm(one.publish(keys.notify('acl-sc-2'), '1:1'))
    // The monitoring user reads and cannot write.
    const monitor = login('gf-monitor')
    expect(await monitor.hgetall(keys.report('acl-sc-2'))).toHaveProperty('sidecarId')
    await noPerm(monitor.hset(keys.desired('acl-sc-2'), 'mode', '"normal"'))
    // The sidecars were not disturbed.
    for (const s of await statuses()) expect(s['fleet']['decidedBy']).toBe('tracker')
  }, 60_000)
})
