import { readdir } from 'node:fs/promises'
import { readGenesisChainId, readNodeConfig } from '@ghostfleet/cometbft'
import { NEVER_SHARED } from '../checkpoint/index.js'
import { BootstrapError } from './errors.js'

/*
 * The checks the install makes, made before anything is downloaded, so a home that would be refused costs no
 * transfer (and asks the tracker for no checkpoint): a goleveldb home with the chain's genesis in place, and,
 * unless `force`, a data directory without data (the node's own signing state does not count, as in the install).
 */

export interface HomeFacts {
  /** The chain id of the home's genesis. */
  chainId: string
  dataDir: string
  /** Entries of the data directory that are data. */
  existingData: string[]
}

export async function checkHome(home: string, force: boolean): Promise<HomeFacts> {
  let config: Awaited<ReturnType<typeof readNodeConfig>>
  try {
    config = await readNodeConfig(home)
  } catch (error) {
    throw new BootstrapError(
      'refused',
      `cannot read the node config of ${home}: ${(error as Error).message}. Initialise the home first (the chain ` +
        "binary's init, then ghostfleet sidecar init).",
      { cause: error },
    )
  }
  if (config.dbBackend !== 'goleveldb')
    throw new BootstrapError(
      'refused',
      `db_backend = "${config.dbBackend}" in ${config.file}: checkpoints hold goleveldb databases; set ` +
        'db_backend = "goleveldb" first',
    )
  let chainId: string
  try {
    chainId = await readGenesisChainId(config.genesisPath)
  } catch (error) {
    throw new BootstrapError(
      'refused',
      `cannot read the chain id of ${home} from ${config.genesisPath}: ${(error as Error).message}. Put the ` +
        "chain's genesis file in place first.",
      { cause: error },
    )
  }
  const entries = await readdir(config.dbPath).catch(() => [] as string[])
  const existingData = entries.filter((name) => !NEVER_SHARED.has(name)).sort()
  if (existingData.length > 0 && !force)
    throw new BootstrapError(
      'refused',
      `${config.dbPath} already holds data (${existingData.slice(0, 5).join(', ')}` +
        `${existingData.length > 5 ? ', …' : ''}); bootstrapping replaces it: pass --force to do so. Nothing was ` +
        'changed and no checkpoint was requested.',
    )
  return { chainId, dataDir: config.dbPath, existingData }
}
