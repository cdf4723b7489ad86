#!/bin/sh
# The demo chain of docker/compose.yml: the only block producer of a simulated CometBFT network
# (`ghostfleet devnet simnode`), one block every BLOCK_TIME_MS. Its home is a volume; the sidecars mount it read-only
# to learn its node id for their seeds. The variables exist so test/e2e/deploy.test.ts can run this script
# outside a container; compose sets only BLOCK_TIME_MS.
set -eu
home=${CHAIN_HOME:-/data/chain}
if [ ! -f "$home/config/config.toml" ]; then
  ghostfleet devnet simnode init --home "$home" --chain-id "${SOURCE_CHAIN_ID:-sim-1}" --moniker producer
fi
exec ghostfleet devnet simnode start --home "$home" --producer \
  --block-time "${BLOCK_TIME_MS:-1000}" \
  --rpc.laddr "${CHAIN_RPC_LADDR:-tcp://0.0.0.0:26657}" \
  --p2p.laddr "${CHAIN_P2P_LADDR:-tcp://0.0.0.0:26656}" \
  --log-level error
