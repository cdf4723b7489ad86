// The donor's side for bootstrap.bench.mjs, in a process of its own (as on a donor host, so the donor's and the new
// host's work do not share one event loop): the donor sidecar's own checkpoint routes (catalog, transfer gate of
// GF_BENCH_BOOTSTRAP_MAX_TRANSFERS slots, default 4 as in the config, no byte-rate cap) on a signed peer listener
// over the checkpoints directory in argv[2], fleet key from GF_BENCH_FLEET_KEY. Prints its URL, runs until SIGTERM.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FleetKey } from '@ghostfleet/coordination'
import { startPeerServer } from '@ghostfleet/peer'

const here = path.dirname(fileURLToPath(import.meta.url))
const dist = (file) => import(path.join(here, '../dist', file))
const { CheckpointCatalog } = await dist('donation/checkpoint-catalog.js')
const { createCheckpointRoutes } = await dist('peer/checkpoint-routes.js')
const { TransferGate } = await dist('peer/transfer-gate.js')

const [checkpointsDir, chainId, donor] = process.argv.slice(2)
const key = FleetKey.parse(process.env.GF_BENCH_FLEET_KEY ?? '', 'GF_BENCH_FLEET_KEY')
const maxTransfers = Number(process.env.GF_BENCH_BOOTSTRAP_MAX_TRANSFERS ?? 4)
const routes = createCheckpointRoutes({
  catalog: new CheckpointCatalog({
    dir: checkpointsDir,
    fleetKey: key,
    ttlMs: 3_600_000,
    maxPinnedBytes: 1e12,
  }),
  gate: new TransferGate({ maxTransfers, bytesPerSecond: null }),
  requesterOf: () => null,
})
const server = await startPeerServer({
  listen: '127.0.0.1:0',
  key,
  sidecarId: donor,
  chainId,
  limits: { perSender: { ratePerSecond: 10_000, burst: 10_000 } },
  handler: routes,
})
process.stdout.write(`${server.url}\n`)
process.once('SIGTERM', () => {
  void server.close({ graceMs: 0 }).then(() => process.exit(0))
})
