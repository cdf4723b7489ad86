import { chmod, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createPeerClient, type PeerClient } from '@ghostfleet/peer'
import {
  freePort,
  getJson,
  nodeStatus,
  runProcess,
  SIM_CHAIN_ID,
  SIMNODE_CLI,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BootstrapError } from '../src/bootstrap/errors.js'
import { type GhostCheckOptions, ghostCheck } from '../src/bootstrap/ghost-check.js'
import { installFromDonor } from '../src/bootstrap/install-from-donor.js'
import { quarantineInstalled } from '../src/bootstrap/quarantine.js'
import {
  readSealedManifest,
  sealCheckpoint,
  signManifest,
  takeCheckpoint,
  type VerifiedManifest,
  verifyManifest,
} from '../src/checkpoint/index.js'
import { newFleetKey } from './checkpoint/fixtures.js'
import { startTestDonor, type TestDonor } from './helpers/bootstrap-donor.js'

/*
 * After the install: the node (the simulated CometBFT node, launched as `start` launches it, in ghost mode) runs on
 * the installed checkpoint of a simulated node's home and must serve the donor's blocks at the manifest's heights;
 * a manifest whose block hash the node does not serve fails the check. The node is stopped afterwards either way.
 */

const DONOR = 'donor-sim'
const BLOCKS = 400

async function simnode(args: string[]): Promise<string> {
  const r = await runProcess('node', [SIMNODE_CLI, ...args])
  if (r.code !== 0) throw new Error(`simnode ${args[0]} failed: ${r.stderr}`)
  return r.stdout
}

describe('bootstrap: the installed node serves the donor blocks', () => {
  const fleetKey = newFleetKey()
  let dir: TempDir
  let donorHome: string
  let manifest: VerifiedManifest
  let donor: TestDonor
  let client: PeerClient
  let settings: GhostCheckOptions['settings']
  let rpcUrl: string

  beforeAll(async () => {
    dir = await tempDir('gf-bootstrap-node-')
    donorHome = path.join(dir.path, 'donor')
    await simnode(['generate', '--home', donorHome, '--blocks', String(BLOCKS), '--chain-id', SIM_CHAIN_ID])
    const checkpoints = path.join(dir.path, 'checkpoints')
    const taken = await takeCheckpoint({ home: donorHome, checkpointsDir: checkpoints })
    await sealCheckpoint({ dir: taken.dir, fleetKey, donor: DONOR })
    manifest = await readSealedManifest(taken.dir, fleetKey)
    donor = await startTestDonor({
      key: fleetKey,
      sidecarId: DONOR,
      chainId: SIM_CHAIN_ID,
      checkpointsDir: checkpoints,
    })
    client = createPeerClient({ key: fleetKey, sender: 'new-host' })

    const home = path.join(dir.path, 'new')
    await simnode(['init', '--home', home, '--chain-id', SIM_CHAIN_ID, '--moniker', 'new'])
    const rpcPort = await freePort()
    const configFile = path.join(home, 'config', 'config.toml')
    const config = await readFile(configFile, 'utf8')
    await writeFile(
      configFile,
      config.replace(/^laddr = "tcp:\/\/127\.0\.0\.1:26657"$/m, `laddr = "tcp://127.0.0.1:${rpcPort}"`),
    )
    rpcUrl = `http://127.0.0.1:${rpcPort}`
    const binary = path.join(dir.path, 'simnode')
    await writeFile(binary, `#!/bin/sh\nexec "${process.execPath}" "${SIMNODE_CLI}" "$@"\n`)
    await chmod(binary, 0o755)
    settings = {
      launch: {
        binary,
        home,
        launcher: 'binary',
        flags: '--log-level error',
        configDir: path.join(dir.path, 'cfg'),
      },
      node: {
        output: { kind: 'file', path: path.join(dir.path, 'node.log') },
        rpcEndpoint: rpcUrl,
        rpcTimeoutMs: 2_000,
        stopGraceMs: 10_000,
        restartBackoff: { initialMs: 200, maxMs: 1_000, resetAfterMs: 60_000 },
        idleTimeoutMs: 30_000,
      },
    }
    await installFromDonor({
      client,
      fleetKey,
      sender: 'new-host',
      peerUrl: donor.url,
      donor: DONOR,
      checkpointId: manifest.id,
      home,
      parallel: 4,
      force: false,
    })
  }, 180_000)
  afterAll(async () => {
    client?.close()
    await donor?.close()
    await dir?.remove()
  })

  it("starts the node in ghost mode, finds the manifest's blocks at base and top, stops the node", async () => {
    const result = await ghostCheck({ settings, manifest, timeoutMs: 60_000, log: silent })
    expect(result.heights).toEqual([manifest.blockStore.base, manifest.blockStore.height])
    expect(manifest.blockStore.height).toBe(BLOCKS)
    expect(await nodeStatus(rpcUrl, 500)).toBeNull()
  }, 90_000)

  it('fails the check when the node does not serve the block hash the manifest names, and stops the node', async () => {
    const { signature: _s, ...unsigned } = manifest
    const other = verifyManifest(
      signManifest(
        {
          ...unsigned,
          blocks: { ...unsigned.blocks, top: { ...unsigned.blocks.top, hash: 'AB'.repeat(32) } },
        },
        fleetKey,
      ),
      fleetKey,
    )
    const error = await ghostCheck({ settings, manifest: other, timeoutMs: 60_000, log: silent }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(BootstrapError)
    expect((error as BootstrapError).failure).toBe('verify')
    expect((error as BootstrapError).message).toMatch(
      new RegExp(
        `serves block ${BLOCKS} with hash [0-9A-F]{64}, the donor's manifest says ${'AB'.repeat(32)}`,
      ),
    )
    expect(await getJson(`${rpcUrl}/status`, 500)).toBeNull()

    // What runBootstrap then does: the installed data goes aside, the data directory is as `init` left it.
    const dataDir = path.join(settings.launch.home, 'data')
    const aside = await quarantineInstalled(dataDir, manifest.id)
    expect(aside).toBe(`${dataDir}.rejected-${manifest.id}`)
    expect(await readdir(dataDir)).toEqual(['priv_validator_state.json'])
    expect(await readdir(path.join(aside, 'blockstore.db'))).toContain('CURRENT')
  }, 90_000)
})

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
