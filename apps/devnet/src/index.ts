/**
 * The local devnet: `ghostfleet-simnode` (a simulated CometBFT node that writes the real on-disk layout and
 * serves the real RPC shapes) and `ghostfleet-devnet` (a simulated KYVE REST API, and `up` for a whole fleet).
 */
export * from './kyve-sim/index.js'
export * from './simnode/index.js'
