/** ghostfleet-sidecar: supervises one CometBFT node (ghost mode, pruning, backups, health). */
export {}
