import path from 'node:path'
import type { NodeConfigToml } from './config-toml.js'

/** `rootify` of CometBFT's config package: absolute paths stay, relative ones are under the home. */
export function rootify(file: string, home: string): string {
  return path.isAbsolute(file) ? file : path.join(home, file)
}

/** Where a node home keeps its files (fixed names plus the ones config.toml can move). */
export interface HomeLayout {
  home: string
  configDir: string
  configToml: string
  appToml: string
  genesis: string
  nodeKey: string
  privValidatorKey: string
  privValidatorState: string
  addrBook: string
  dataDir: string
  blockstoreDb: string
  stateDb: string
}

/** The layout before config.toml has been read (what `init` writes). */
export function defaultLayout(home: string): HomeLayout {
  return {
    home,
    configDir: path.join(home, 'config'),
    configToml: path.join(home, 'config', 'config.toml'),
    appToml: path.join(home, 'config', 'app.toml'),
    genesis: path.join(home, 'config', 'genesis.json'),
    nodeKey: path.join(home, 'config', 'node_key.json'),
    privValidatorKey: path.join(home, 'config', 'priv_validator_key.json'),
    privValidatorState: path.join(home, 'data', 'priv_validator_state.json'),
    addrBook: path.join(home, 'config', 'addrbook.json'),
    dataDir: path.join(home, 'data'),
    blockstoreDb: path.join(home, 'data', 'blockstore.db'),
    stateDb: path.join(home, 'data', 'state.db'),
  }
}

/** The layout config.toml asks for. */
export function layoutFromConfig(home: string, config: NodeConfigToml): HomeLayout {
  const dataDir = rootify(config.db_dir, home)
  return {
    ...defaultLayout(home),
    genesis: rootify(config.genesis_file, home),
    nodeKey: rootify(config.node_key_file, home),
    privValidatorKey: rootify(config.priv_validator_key_file, home),
    privValidatorState: rootify(config.priv_validator_state_file, home),
    addrBook: rootify(config.p2p.addr_book_file, home),
    dataDir,
    blockstoreDb: path.join(dataDir, 'blockstore.db'),
    stateDb: path.join(dataDir, 'state.db'),
  }
}
