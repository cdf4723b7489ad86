import { randomBytes } from 'node:crypto'
import { cp, mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FleetKey } from '@ghostfleet/coordination'
import type { UnsignedManifest } from '../../src/checkpoint/index.js'

/** A fresh fleet key (hex, 32 random bytes). */
export function newFleetKey(): FleetKey {
  return FleetKey.parse(randomBytes(32).toString('hex'), 'test fleet key')
}

/** `config/genesis.json` with `chainId` (only what the chain-id reader looks at). */
export async function writeGenesis(home: string, chainId: string): Promise<void> {
  await mkdir(path.join(home, 'config'), { recursive: true })
  await writeFile(
    path.join(home, 'config', 'genesis.json'),
    `${JSON.stringify({ genesis_time: '2024-01-01T00:00:00Z', chain_id: chainId, app_state: {} }, null, 2)}\n`,
  )
}

/**
 * The private and node-local files a real home has besides its databases (what `init` and a running node write),
 * each with content unique to `who`, so a leak into a checkpoint or an install is recognisable.
 */
export async function addNodePrivateFiles(home: string, who: string): Promise<void> {
  await mkdir(path.join(home, 'config'), { recursive: true })
  await mkdir(path.join(home, 'data', 'cs.wal'), { recursive: true })
  const files: Record<string, string> = {
    'config/node_key.json': `{"priv_key":{"type":"tendermint/PrivKeyEd25519","value":"${who}-node-key"}}\n`,
    'config/priv_validator_key.json': `{"address":"${who}","priv_key":{"value":"${who}-validator-key"}}\n`,
    'config/addrbook.json': `{"key":"${who}","addrs":[]}\n`,
    'data/priv_validator_state.json': `{\n  "height": "0",\n  "round": 0,\n  "step": 0,\n  "who": "${who}"\n}\n`,
    'data/cs.wal/wal': `${who} consensus wal\n`,
    'data/upgrade-info.json': '{"name":"v2","height":123}\n',
  }
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(home, file), text)
}

/**
 * A receiving host's home as `init` leaves it: config.toml (copied from `template`), genesis of `chainId`, its own
 * keys and signing state, no databases.
 */
export async function emptyHome(home: string, template: string, chainId: string, who: string): Promise<void> {
  await mkdir(path.join(home, 'config'), { recursive: true })
  await cp(path.join(template, 'config', 'config.toml'), path.join(home, 'config', 'config.toml'))
  await writeGenesis(home, chainId)
  await addNodePrivateFiles(home, who)
  await rm(path.join(home, 'data', 'cs.wal'), { recursive: true })
  await rm(path.join(home, 'data', 'upgrade-info.json'))
}

/** Copies the checkpoint's files the way a download writes them: new files, no links to the donor's. */
export async function download(checkpointDataDir: string, target: string): Promise<void> {
  await cp(checkpointDataDir, target, { recursive: true })
}

/** A manifest of chain `chainId` with blocks 1000..2500 and `files`, ready to sign (values are stand-ins). */
export function unsignedManifest(chainId: string, files: UnsignedManifest['files']): UnsignedManifest {
  return {
    format: 'ghostfleet-checkpoint',
    version: 1,
    id: '2500-20261207T064512123Z',
    donor: 'donor-a',
    createdAt: '2026-12-07T06:45:13.000Z',
    chainId,
    blockStore: { base: 1000, height: 2500 },
    blocks: {
      base: { height: 1000, hash: 'AB'.repeat(32) },
      top: { height: 2500, hash: 'CD'.repeat(32), appHash: 'EF'.repeat(32) },
    },
    state: { lastBlockHeight: 2500, appHash: '01'.repeat(32) },
    files,
  }
}
