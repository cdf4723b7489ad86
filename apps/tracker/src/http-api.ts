/**
 * The tracker's HTTP server: `/v1/fleet`, `/v1/pools`, `/v1/sidecars/:id`, `/v1/bootstraps`, plus `/livez`, `/readyz` and
 * `/metrics` from `@ghostfleet/telemetry`. Read-only; bind it to loopback or a management network (it names
 * every host of the fleet).
 */
import type { BootstrapRecord } from '@ghostfleet/coordination'
import { sidecarReportSchema } from '@ghostfleet/core'
import {
  createHttpServer,
  type Express,
  type Logger,
  type ReadinessResult,
  type Registry,
} from '@ghostfleet/telemetry'
import type { FleetView, SidecarView } from './fleet-view.js'

/** The wire schema's sidecar id rule, so the API accepts exactly the ids sidecars can have. */
const sidecarIdSchema = sidecarReportSchema.shape.sidecarId

export interface FleetApiSource {
  fleet(): Promise<FleetView>
  sidecar(sidecarId: string): Promise<SidecarView | null>
  readiness(): ReadinessResult
  /** The bootstrap requests still stored (the leader's own, or Redis's on a standby), newest first. */
  bootstraps?(): Promise<BootstrapRecord[]>
}

export function createTrackerApp(source: FleetApiSource, registry: Registry, logger: Logger): Express {
  return createHttpServer({
    registry,
    logger,
    readyz: () => source.readiness(),
    routes: (app) => {
      app.get('/v1/fleet', async (_req, res) => {
        res.set('Cache-Control', 'no-store').json(await source.fleet())
      })
      app.get('/v1/pools', async (_req, res) => {
        const fleet = await source.fleet()
        res.set('Cache-Control', 'no-store').json({ tracker: fleet.tracker, pools: fleet.pools })
      })
      app.get('/v1/bootstraps', async (_req, res) => {
        res.set('Cache-Control', 'no-store').json({ bootstraps: (await source.bootstraps?.()) ?? [] })
      })
      app.get('/v1/sidecars/:id', async (req, res) => {
        const id = req.params.id
        if (!sidecarIdSchema.safeParse(id).success) {
          res.status(400).json({ error: 'not a sidecar id: 1–64 characters from A-Z a-z 0-9 . _ -' })
          return
        }
        const sidecar = await source.sidecar(id)
        if (sidecar === null) {
          res.status(404).json({ error: `no sidecar ${id} in the fleet` })
          return
        }
        res.set('Cache-Control', 'no-store').json(sidecar)
      })
    },
  })
}
