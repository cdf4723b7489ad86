import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  freePort,
  runProcess,
  SIM_CHAIN_ID,
  SIMNODE_CLI,
  type TempDir,
  tempDir,
  testConfig,
} from '@ghostfleet/testkit'
import { stringify } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDurationFlag } from '../src/commands/bootstrap.js'
import { sidecarCli } from './helpers/cli.js'
import { hashTree } from './helpers/node-files.js'

/*
 * `ghostfleet-sidecar bootstrap` as a process: what it needs (fleet key, tracker address) is asked for by name,
 * and a home with data is refused without --force before any tracker is asked (the address given here has no
 * listener: asking it would fail differently), leaving the home as it was.
 */

describe('ghostfleet-sidecar bootstrap (command line)', () => {
  let dir: TempDir
  let configDir: string
  let home: string
  let noTracker: string

  beforeAll(async () => {
    dir = await tempDir('gf-bootstrap-cli-')
    home = path.join(dir.path, 'home')
    const r = await runProcess('node', [
      SIMNODE_CLI,
      'generate',
      '--home',
      home,
      '--blocks',
      '20',
      '--chain-id',
      SIM_CHAIN_ID,
    ])
    if (r.code !== 0) throw new Error(r.stderr)
    configDir = path.join(dir.path, 'cfg')
    await mkdir(configDir)
    const config = testConfig({
      binary: '/bin/true',
      follower: { home, id: 'x', rpcPort: 1, p2pPort: 2, rpcUrl: 'http://127.0.0.1:1' },
      kyveUrl: 'http://127.0.0.1:1',
      httpPort: await freePort(),
    })
    await writeFile(path.join(configDir, 'config.toml'), stringify(config))
    noTracker = `http://127.0.0.1:${await freePort()}`
  }, 60_000)
  afterAll(async () => {
    await dir?.remove()
  })

  const fleetKeyHex = randomBytes(32).toString('hex')

  it('names the missing fleet key and tracker address (exit 2)', async () => {
    const noKey = await sidecarCli(
      ['bootstrap', '--config', configDir, '--tracker-url', noTracker, '--no-start'],
      {
        GHOSTFLEET_FLEET_KEY: '',
      },
    )
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toMatch(/needs the fleet key in GHOSTFLEET_FLEET_KEY/)
    const noUrl = await sidecarCli(['bootstrap', '--config', configDir, '--no-start'], {
      GHOSTFLEET_FLEET_KEY: fleetKeyHex,
      GHOSTFLEET_TRACKER_URL: '',
    })
    expect(noUrl.code).toBe(2)
    expect(noUrl.stderr).toMatch(/--tracker-url http:\/\/<tracker>:<port> or GHOSTFLEET_TRACKER_URL/)
  })

  it('refuses a home with data without --force, before asking the tracker, and changes nothing', async () => {
    const before = await hashTree(home)
    const r = await sidecarCli(
      ['bootstrap', '--config', configDir, '--tracker-url', noTracker, '--no-start'],
      {
        GHOSTFLEET_FLEET_KEY: fleetKeyHex,
      },
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/bootstrap failed \(refused\): .*already holds data .*pass --force/)
    expect(await hashTree(home)).toEqual(before)
  })

  it('with --force it goes on to the tracker, and says when the tracker cannot be reached (exit 1)', async () => {
    const before = await hashTree(home)
    const r = await sidecarCli(
      ['bootstrap', '--config', configDir, '--tracker-url', noTracker, '--force', '--no-start'],
      {
        GHOSTFLEET_FLEET_KEY: fleetKeyHex,
      },
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /bootstrap failed \(no-donor\): cannot ask the tracker at http:\/\/127\.0\.0\.1:\d+ for a donor/,
    )
    expect(r.stderr).not.toContain(fleetKeyHex)
    expect(await hashTree(home)).toEqual(before)
  })

  it('reads --timeout as a duration', () => {
    expect(parseDurationFlag('90s')).toBe(90_000)
    expect(parseDurationFlag('30m')).toBe(1_800_000)
    expect(parseDurationFlag('2h')).toBe(7_200_000)
    expect(parseDurationFlag('45')).toBe(45_000)
    expect(() => parseDurationFlag('0s')).toThrow(/from 1s to 24h/)
    expect(() => parseDurationFlag('soon')).toThrow(/such as 90s/)
  })
})
