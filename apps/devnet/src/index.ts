/** ghostfleet-simnode (simulated CometBFT node) and ghostfleet-devnet (simulated KYVE REST API, local fleet). */
export {}
