import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'
import { HomeFileError } from './errors.js'
import { parseGoDuration } from './go-duration.js'
import { parseHomeFile, readHomeFile } from './home-file.js'

/**
 * `config/config.toml`: the CometBFT v0.37 template (key names, order, sections and defaults of
 * cometbft@v0.37.18:config/toml.go and config/config.go), with two deliberate local-network settings that
 * `cometbft testnet` also makes: `addr_book_strict = false` (loopback peers may enter the address book) and
 * `allow_duplicate_ip = true` (every simulated node runs on 127.0.0.1).
 */
export interface ConfigTomlValues {
  moniker: string
  rpcLaddr?: string
  p2pLaddr?: string
  seeds?: string
  persistentPeers?: string
}

const q = (s: string) => JSON.stringify(s)

export function renderConfigToml(v: ConfigTomlValues): string {
  return `# This is a TOML config file.
# For more information, see https://github.com/toml-lang/toml

# NOTE: Any path below can be absolute (e.g. "/var/myawesomeapp/data") or
# relative to the home directory (e.g. "data"). The home directory is
# "$HOME/.cometbft" by default, but could be changed via $CMTHOME env variable
# or --home cmd flag.

#######################################################################
###                   Main Base Config Options                      ###
#######################################################################

# TCP or UNIX socket address of the ABCI application,
# or the name of an ABCI application compiled in with the CometBFT binary
proxy_app = "tcp://127.0.0.1:26658"

# A custom human readable name for this node
moniker = ${q(v.moniker)}

# If this node is many blocks behind the tip of the chain, BlockSync
# allows them to catchup quickly by downloading blocks in parallel
# and verifying their commits
block_sync = true

# Database backend: goleveldb | cleveldb | boltdb | rocksdb | badgerdb
db_backend = "goleveldb"

# Database directory
db_dir = "data"

# Output level for logging, including package level options
log_level = "info"

# Output format: 'plain' (colored text) or 'json'
log_format = "plain"

##### additional base config options #####

# Path to the JSON file containing the initial validator set and other meta data
genesis_file = "config/genesis.json"

# Path to the JSON file containing the private key to use as a validator in the consensus protocol
priv_validator_key_file = "config/priv_validator_key.json"

# Path to the JSON file containing the last sign state of a validator
priv_validator_state_file = "data/priv_validator_state.json"

# TCP or UNIX socket address for CometBFT to listen on for
# connections from an external PrivValidator process
priv_validator_laddr = ""

# Path to the JSON file containing the private key to use for node authentication in the p2p protocol
node_key_file = "config/node_key.json"

# Mechanism to connect to the ABCI application: socket | grpc
abci = "socket"

# If true, query the ABCI app on connecting to a new peer
# so the app can decide if we should keep the connection or not
filter_peers = false


#######################################################################
###                 Advanced Configuration Options                  ###
#######################################################################

#######################################################
###       RPC Server Configuration Options          ###
#######################################################
[rpc]

# TCP or UNIX socket address for the RPC server to listen on
laddr = ${q(v.rpcLaddr ?? 'tcp://127.0.0.1:26657')}

# A list of origins a cross-domain request can be executed from
cors_allowed_origins = []

# A list of methods the client is allowed to use with cross-domain requests
cors_allowed_methods = ["HEAD", "GET", "POST", ]

# A list of non simple headers the client is allowed to use with cross-domain requests
cors_allowed_headers = ["Origin", "Accept", "Content-Type", "X-Requested-With", "X-Server-Time", ]

# TCP or UNIX socket address for the gRPC server to listen on
# NOTE: This server only supports /broadcast_tx_commit
grpc_laddr = ""

# Maximum number of simultaneous gRPC connections (0 - unlimited).
grpc_max_open_connections = 900

# Activate unsafe RPC commands like /dial_seeds and /unsafe_flush_mempool
unsafe = false

# Maximum number of simultaneous connections, including WebSocket (0 - unlimited).
max_open_connections = 900

# Maximum number of unique clientIDs that can /subscribe
max_subscription_clients = 100

# Maximum number of unique queries a given client can /subscribe to
max_subscriptions_per_client = 5

# Maximum number of events buffered per subscription before the subscription is closed.
experimental_subscription_buffer_size = 200

# Maximum number of RPC responses buffered per WebSocket client.
experimental_websocket_write_buffer_size = 200

# Close WebSocket clients that cannot read fast enough instead of dropping events.
experimental_close_on_slow_client = false

# How long to wait for a tx to be committed during /broadcast_tx_commit.
timeout_broadcast_tx_commit = "10s"

# Maximum size of request body, in bytes
max_body_bytes = 1000000

# Maximum size of request header, in bytes
max_header_bytes = 1048576

# Certificate and key for an HTTPS RPC server (both must be set).
tls_cert_file = ""
tls_key_file = ""

# pprof listen address (https://golang.org/pkg/net/http/pprof)
pprof_laddr = ""

#######################################################
###           P2P Configuration Options             ###
#######################################################
[p2p]

# Address to listen for incoming connections
laddr = ${q(v.p2pLaddr ?? 'tcp://0.0.0.0:26656')}

# Address to advertise to peers for them to dial. If empty, will use the same
# port as the laddr, and will introspect on the listener to figure out the
# address. IP and port are required. Example: 159.89.10.97:26656
external_address = ""

# Comma separated list of seed nodes to connect to
seeds = ${q(v.seeds ?? '')}

# Comma separated list of nodes to keep persistent connections to
persistent_peers = ${q(v.persistentPeers ?? '')}

# Path to address book
addr_book_file = "config/addrbook.json"

# Set true for strict address routability rules
# Set false for private or local networks
addr_book_strict = false

# Maximum number of inbound peers
max_num_inbound_peers = 40

# Maximum number of outbound peers to connect to, excluding persistent peers
max_num_outbound_peers = 10

# List of node IDs, to which a connection will be (re)established ignoring any existing limits
unconditional_peer_ids = ""

# Maximum pause when redialing a persistent peer (if zero, exponential backoff is used)
persistent_peers_max_dial_period = "0s"

# Time to wait before flushing messages out on the connection
flush_throttle_timeout = "100ms"

# Maximum size of a message packet payload, in bytes
max_packet_msg_payload_size = 1024

# Rate at which packets can be sent, in bytes/second
send_rate = 5120000

# Rate at which packets can be received, in bytes/second
recv_rate = 5120000

# Set true to enable the peer-exchange reactor
pex = true

# Seed mode, in which node constantly crawls the network and looks for
# peers. If another node asks it for addresses, it responds and disconnects.
#
# Does not work if the peer-exchange reactor is disabled.
seed_mode = false

# Comma separated list of peer IDs to keep private (will not be gossiped to other peers)
private_peer_ids = ""

# Toggle to disable guard against peers connecting from the same ip.
allow_duplicate_ip = true

# Peer connection configuration.
handshake_timeout = "20s"
dial_timeout = "3s"

#######################################################
###          Mempool Configuration Option          ###
#######################################################
[mempool]

version = "v0"
type = "flood"
recheck = true
broadcast = true
wal_dir = ""

# Maximum number of transactions in the mempool
size = 5000

# Limit the total size of all txs in the mempool.
max_txs_bytes = 1073741824

# Size of the cache (used to filter transactions we saw earlier) in transactions
cache_size = 10000

# Do not remove invalid transactions from the cache (default: false)
keep-invalid-txs-in-cache = false

# Maximum size of a single transaction.
max_tx_bytes = 1048576

# Maximum size of a batch of transactions to send to a peer
max_batch_bytes = 0

# Mempool time-to-live limits (0 = off).
ttl-duration = "0s"
ttl-num-blocks = 0

experimental_max_gossip_connections_to_persistent_peers = 0
experimental_max_gossip_connections_to_non_persistent_peers = 0

#######################################################
###         State Sync Configuration Options        ###
#######################################################
[statesync]
enable = false
rpc_servers = ""
trust_height = 0
trust_hash = ""
trust_period = "168h0m0s"
discovery_time = "15s"
temp_dir = ""
chunk_request_timeout = "10s"
chunk_fetchers = "4"
max_snapshot_chunks = 100000

#######################################################
###       Block Sync Configuration Options          ###
#######################################################
[blocksync]
version = "v0"

#######################################################
###         Consensus Configuration Options         ###
#######################################################
[consensus]

wal_file = "data/cs.wal/wal"

timeout_propose = "3s"
timeout_propose_delta = "500ms"
timeout_prevote = "1s"
timeout_prevote_delta = "500ms"
timeout_precommit = "1s"
timeout_precommit_delta = "500ms"
timeout_commit = "1s"
double_sign_check_height = 0
skip_timeout_commit = false
create_empty_blocks = true
create_empty_blocks_interval = "0s"
peer_gossip_sleep_duration = "100ms"
peer_query_maj23_sleep_duration = "2s"

#######################################################
###         Storage Configuration Options           ###
#######################################################
[storage]

# Set to true to discard ABCI responses from the state store. ABCI responses are
# required for /block_results RPC queries.
discard_abci_responses = false

#######################################################
###   Transaction Indexer Configuration Options     ###
#######################################################
[tx_index]
indexer = "kv"
psql-conn = ""

#######################################################
###       Instrumentation Configuration Options     ###
#######################################################
[instrumentation]
prometheus = false
prometheus_listen_addr = ":26660"
max_open_connections = 3
namespace = "cometbft"
`
}

const goDuration = z.string().transform((s, ctx) => {
  const ms = parseGoDuration(s)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a Go duration: "${s}"` })
    return z.NEVER
  }
  return ms
})

// Missing keys take CometBFT's defaults (viper defaults); present keys must have the right type.
const configSchema = z.object({
  moniker: z.string().default('simnode'),
  db_backend: z
    .literal('goleveldb', { error: 'only "goleveldb" is supported by the simulated node' })
    .default('goleveldb'),
  db_dir: z.string().min(1).default('data'),
  log_level: z.string().default('info'),
  log_format: z.enum(['plain', 'json']).default('plain'),
  genesis_file: z.string().min(1).default('config/genesis.json'),
  priv_validator_key_file: z.string().min(1).default('config/priv_validator_key.json'),
  priv_validator_state_file: z.string().min(1).default('data/priv_validator_state.json'),
  node_key_file: z.string().min(1).default('config/node_key.json'),
  rpc: z.object({ laddr: z.string().default('tcp://127.0.0.1:26657') }).prefault({}),
  p2p: z
    .object({
      laddr: z.string().default('tcp://0.0.0.0:26656'),
      external_address: z.string().default(''),
      seeds: z.string().default(''),
      persistent_peers: z.string().default(''),
      addr_book_file: z.string().min(1).default('config/addrbook.json'),
      addr_book_strict: z.boolean().default(true),
      max_num_inbound_peers: z.number().int().nonnegative().default(40),
      max_num_outbound_peers: z.number().int().nonnegative().default(10),
      pex: z.boolean().default(true),
      seed_mode: z.boolean().default(false),
      private_peer_ids: z.string().default(''),
      allow_duplicate_ip: z.boolean().default(false),
      handshake_timeout: goDuration.default(20_000),
      dial_timeout: goDuration.default(3_000),
    })
    .prefault({}),
})

/** The config.toml keys the simulated node uses, after defaults. */
export type NodeConfigToml = z.output<typeof configSchema>

/** Parses config.toml text; a reject names the key and the problem. */
export function parseConfigToml(text: string, file: string): NodeConfigToml {
  let raw: unknown
  try {
    raw = parseToml(text)
  } catch (error) {
    throw new HomeFileError(file, `not valid TOML: ${(error as Error).message}`, { cause: error })
  }
  return parseHomeFile(file, configSchema, raw)
}

export async function readConfigToml(file: string): Promise<NodeConfigToml> {
  return parseConfigToml(await readHomeFile(file), file)
}
