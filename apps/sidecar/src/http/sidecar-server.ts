import { createHttpServer, type Express, type Logger } from '@ghostfleet/telemetry'
import type { Controller } from '../control/controller.js'
import type { SidecarMetrics } from '../telemetry/sidecar-metrics.js'
import { buildStatusReport, readiness, type StatusMeta } from './status-report.js'

/**
 * The sidecar's HTTP surface: `/livez` (the process and its loop are alive), `/readyz` (see `readiness`),
 * `/status` (JSON), `/metrics`. It listens on loopback unless `http.listen` says otherwise.
 */
export function createSidecarHttpApp(options: {
  controller: Controller
  metrics: SidecarMetrics
  meta: StatusMeta
  logger: Logger
  /** Fleet mode: its section of /status. */
  fleet?: { status(): Record<string, unknown> } | null
}): Express {
  const { controller, meta } = options
  return createHttpServer({
    registry: options.metrics.registry,
    logger: options.logger,
    livez: () => controller.snapshot().activity !== 'stopped',
    readyz: () => readiness(controller.snapshot(), meta.maxPoolAgeMs),
    routes: (app) => {
      app.get('/status', (_req, res) => {
        res.set('Cache-Control', 'no-store')
        const report = buildStatusReport(controller.snapshot(), meta)
        res.json(options.fleet ? { ...report, fleet: options.fleet.status() } : report)
      })
    },
  })
}
