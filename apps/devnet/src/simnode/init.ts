import { mkdir, writeFile } from 'node:fs/promises'
import { pathExists } from '@ghostfleet/cometbft'
import { renderAppToml } from './app-toml.js'
import { renderConfigToml } from './config-toml.js'
import { FlagError, HomeExistsError } from './errors.js'
import { checkChainId, renderGenesis } from './genesis.js'
import { defaultLayout } from './home.js'
import { Ed25519Key, initialPrivValidatorStateJson, nodeKeyJson, privValidatorKeyJson } from './keys.js'

export interface InitOptions {
  home: string
  chainId: string
  moniker?: string
}

export interface InitResult {
  home: string
  chainId: string
  nodeId: string
  validatorAddress: string
}

/**
 * Creates a node home like `<appd> init` does: config.toml, app.toml, node_key.json,
 * priv_validator_key.json, genesis.json and a data directory holding only priv_validator_state.json.
 * The genesis depends on the chain id alone (see `renderGenesis`), so separately initialised homes of one
 * chain can sync from each other. Refuses to touch an existing home.
 */
export async function initHome(opts: InitOptions): Promise<InitResult> {
  const problem = checkChainId(opts.chainId)
  if (problem) throw new FlagError(`--chain-id: ${problem}`)
  const layout = defaultLayout(opts.home)
  if ((await pathExists(layout.configToml)) || (await pathExists(layout.genesis)))
    throw new HomeExistsError(opts.home)
  const moniker = opts.moniker ?? 'simnode'
  const nodeKey = Ed25519Key.generate()
  const validator = Ed25519Key.generate()

  // CometBFT's DefaultDirPerm is 0700 and key files are written 0600.
  await mkdir(layout.configDir, { recursive: true, mode: 0o700 })
  await mkdir(layout.dataDir, { recursive: true, mode: 0o700 })
  await writeFile(layout.nodeKey, nodeKeyJson(nodeKey), { mode: 0o600 })
  await writeFile(layout.privValidatorKey, privValidatorKeyJson(validator), { mode: 0o600 })
  await writeFile(layout.privValidatorState, initialPrivValidatorStateJson(), { mode: 0o600 })
  await writeFile(layout.genesis, renderGenesis(opts.chainId), { mode: 0o644 })
  await writeFile(layout.appToml, renderAppToml(), { mode: 0o644 })
  // config.toml last: its presence marks a complete home.
  await writeFile(layout.configToml, renderConfigToml({ moniker }), { mode: 0o644 })
  return {
    home: opts.home,
    chainId: opts.chainId,
    nodeId: nodeKey.nodeId,
    validatorAddress: validator.address.toString('hex').toUpperCase(),
  }
}
