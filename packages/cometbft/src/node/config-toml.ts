import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { InvalidListenAddressError } from './errors.js'
import { configErrorFromZod, readTomlFile } from './toml-file.js'

/*
 * The few keys of CometBFT's config.toml the sidecar needs. A key that is
 * absent takes CometBFT's own default (config/config.go DefaultBaseConfig / DefaultP2PConfig /
 * DefaultRPCConfig), because that is what the node will run with; a key of the wrong type is a reject, because
 * the node would refuse it too.
 */

/** CometBFT defaults for the keys we read (cometbft@v0.38.25:config/config.go). */
export const NODE_CONFIG_DEFAULTS = {
  dbBackend: 'goleveldb',
  dbDir: 'data',
  rpcLaddr: 'tcp://127.0.0.1:26657',
  p2pLaddr: 'tcp://0.0.0.0:26656',
  addrBookFile: 'config/addrbook.json',
  genesisFile: 'config/genesis.json',
} as const

const str = (what: string) => z.string(`expected ${what} (a string)`)

const configTomlSchema = z.object({
  // CometBFT's default moniker is the host name (config.defaultMoniker).
  moniker: str('the node name').optional(),
  db_backend: str('a database backend name').optional(),
  db_dir: str('a directory').optional(),
  genesis_file: str('a file path').optional(),
  rpc: z
    .object({ laddr: str('a listen address like "tcp://127.0.0.1:26657"').optional() }, 'expected a table')
    .optional(),
  p2p: z
    .object(
      {
        laddr: str('a listen address like "tcp://0.0.0.0:26656"').optional(),
        seeds: str('comma-separated id@host:port entries').optional(),
        persistent_peers: str('comma-separated id@host:port entries').optional(),
        pex: z.boolean('expected true or false').optional(),
        addr_book_file: str('a file path').optional(),
      },
      'expected a table',
    )
    .optional(),
})

/** What the sidecar needs from the node's `config/config.toml`, with CometBFT's defaults filled in. */
export interface NodeConfig {
  /** Absolute path of the config.toml that was read. */
  file: string
  /** `moniker` (default: the host name, like CometBFT). */
  moniker: string
  /** `db_backend` (default `goleveldb`). */
  dbBackend: string
  /** `db_dir` as written (default `data`). */
  dbDir: string
  /** `db_dir` resolved against the home (absolute paths stay as they are, like CometBFT's `rootify`). */
  dbPath: string
  /** `genesis_file` resolved against the home (default `config/genesis.json`). */
  genesisPath: string
  rpc: {
    /** `[rpc] laddr` (default `tcp://127.0.0.1:26657`). */
    laddr: string
  }
  p2p: {
    /** `[p2p] laddr` (default `tcp://0.0.0.0:26656`). */
    laddr: string
    /** `[p2p] seeds` split the way CometBFT does (on commas, trimmed, empty entries dropped). */
    seeds: string[]
    /** `[p2p] persistent_peers`, split like `seeds`. */
    persistentPeers: string[]
    /** `[p2p] pex` (default true). */
    pex: boolean
    /** `[p2p] addr_book_file` as written (default `config/addrbook.json`). */
    addrBookFile: string
    /** `addr_book_file` resolved against the home. */
    addrBookPath: string
  }
}

/** CometBFT's `splitAndTrimEmpty(s, ",", " ")`: `" "` and `""` both mean "none". */
function splitPeerList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
}

/** CometBFT's `rootify`: absolute paths stay, relative ones are taken relative to the home. */
export function resolveInHome(home: string, file: string): string {
  return path.isAbsolute(file) ? file : path.join(path.resolve(home), file)
}

/** Path of `config/config.toml` in a node home. */
export function configTomlPath(home: string): string {
  return path.join(path.resolve(home), 'config', 'config.toml')
}

/**
 * Reads and validates `<home>/config/config.toml`.
 *
 * @throws {@link NodeConfigError} naming the file (and the dotted key) when the file is missing, is not TOML,
 * or has a key of the wrong type.
 */
export async function readNodeConfig(home: string): Promise<NodeConfig> {
  const file = configTomlPath(home)
  const { table } = await readTomlFile(file)
  const parsed = configTomlSchema.safeParse(table)
  if (!parsed.success) throw configErrorFromZod(file, parsed.error, table)
  const raw = parsed.data
  const dbDir = raw.db_dir ?? NODE_CONFIG_DEFAULTS.dbDir
  const addrBookFile = raw.p2p?.addr_book_file ?? NODE_CONFIG_DEFAULTS.addrBookFile
  return {
    file,
    moniker: raw.moniker ?? os.hostname(),
    dbBackend: raw.db_backend ?? NODE_CONFIG_DEFAULTS.dbBackend,
    dbDir,
    dbPath: resolveInHome(home, dbDir),
    genesisPath: resolveInHome(home, raw.genesis_file ?? NODE_CONFIG_DEFAULTS.genesisFile),
    rpc: { laddr: raw.rpc?.laddr ?? NODE_CONFIG_DEFAULTS.rpcLaddr },
    p2p: {
      laddr: raw.p2p?.laddr ?? NODE_CONFIG_DEFAULTS.p2pLaddr,
      seeds: splitPeerList(raw.p2p?.seeds ?? ''),
      persistentPeers: splitPeerList(raw.p2p?.persistent_peers ?? ''),
      pex: raw.p2p?.pex ?? true,
      addrBookFile,
      addrBookPath: resolveInHome(home, addrBookFile),
    },
  }
}

/**
 * The HTTP endpoint a local client should use for a CometBFT RPC listen address: `tcp://0.0.0.0:26657` →
 * `http://127.0.0.1:26657`. Wildcard hosts (`0.0.0.0`, empty, `::`) become the matching loopback address,
 * since the sidecar runs on the node's host; a concrete host is kept.
 *
 * @throws {@link InvalidListenAddressError} for unix sockets, other schemes or a missing/invalid port.
 */
export function rpcEndpointFromLaddr(laddr: string): string {
  const trimmed = laddr.trim()
  // CometBFT's protocolAndAddress: no "://" means tcp.
  const schemeEnd = trimmed.indexOf('://')
  const scheme = schemeEnd === -1 ? 'tcp' : trimmed.slice(0, schemeEnd).toLowerCase()
  const address = schemeEnd === -1 ? trimmed : trimmed.slice(schemeEnd + 3)
  if (scheme === 'unix') {
    throw new InvalidListenAddressError(laddr, 'unix sockets are not supported; listen on a TCP address')
  }
  if (scheme !== 'tcp' && scheme !== 'http') {
    throw new InvalidListenAddressError(laddr, `unsupported scheme "${scheme}" (expected tcp://)`)
  }
  const portSep = address.lastIndexOf(':')
  if (portSep === -1) throw new InvalidListenAddressError(laddr, 'no port')
  let host = address.slice(0, portSep)
  const portText = address.slice(portSep + 1)
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65_535) {
    throw new InvalidListenAddressError(laddr, `invalid port "${portText}"`)
  }
  const bracketed = host.startsWith('[') && host.endsWith(']')
  if (bracketed) host = host.slice(1, -1)
  else if (host.includes(':')) {
    // Go's net.SplitHostPort (which CometBFT uses) requires brackets around an IPv6 host too.
    throw new InvalidListenAddressError(
      laddr,
      'an IPv6 host must be written in brackets, e.g. tcp://[::1]:26657',
    )
  }
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1'
  else if (host === '::' || host === '::0') host = '::1'
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new InvalidListenAddressError(laddr, `invalid host "${host}"`)
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}
