#!/bin/sh
# A demo sidecar of docker/compose.yml: a follower node of the simulated chain (`ghostfleet devnet simnode`) and
# the sidecar that supervises it, set up the way an operator would on a real host:
# `ghostfleet sidecar init` against the KYVE API, then `ghostfleet sidecar start`. The node binary given to
# `init --binary` must be one executable path: the image's `ghostfleet-simnode` link (the old name) is that. The path and address
# variables exist so test/e2e/deploy.test.ts can run this script outside a container.
set -eu
node_home=${NODE_HOME:-/data/node}
config_dir=${CONFIG_DIR:-/data/ghostfleet}
http_port=${SIDECAR_HTTP_PORT:-26670}
: "${KYVE_API:?KYVE_API must name the KYVE REST endpoint}"

if [ ! -f "$node_home/config/config.toml" ]; then
  ghostfleet devnet simnode init --home "$node_home" --chain-id "${SOURCE_CHAIN_ID:-sim-1}" --moniker "$(hostname)"
fi

if [ ! -f "$config_dir/config.toml" ]; then
  producer_id=$(ghostfleet devnet simnode show-node-id --home "${CHAIN_HOME:-/chain/chain}")
  ghostfleet sidecar init \
    --config "$config_dir" \
    --binary "$(command -v ghostfleet-simnode)" \
    --home "$node_home" \
    --pool-id "${POOL_ID:-1}" \
    --chain-id "${KYVE_CHAIN_ID:-kyve-1}" \
    --fallback-endpoints "$KYVE_API" \
    --seeds "${producer_id}@${CHAIN_P2P:-chain:26656}" \
    --pruning-interval "${PRUNING_INTERVAL_HOURS:-0.1}" \
    --metrics-port "$http_port"
  # Prometheus scrapes the sidecar from its own container: serve HTTP on every interface of this one.
  sed -i "s/^listen = \"127\\.0\\.0\\.1:$http_port\"\$/listen = \"0.0.0.0:$http_port\"/" "$config_dir/config.toml"
  if ! grep -q "^listen = \"0.0.0.0:$http_port\"\$" "$config_dir/config.toml"; then
    echo "sidecar.sh: could not set http.listen = \"0.0.0.0:$http_port\" in $config_dir/config.toml" >&2
    exit 1
  fi
fi

exec ghostfleet sidecar start --config "$config_dir"
