/**
 * What sidecar and tracker share to be observable: a pino logger factory (JSON lines, pretty on a TTY),
 * prom-client registry helpers that enforce the `ghostfleet_*` naming rules, and an express server with
 * `/livez`, `/readyz`, `/metrics`, JSON 404s and JSON errors; and `LiveFrame`, a table that redraws in place on a
 * terminal and appends plain lines elsewhere.
 *
 * ```ts
 * const logger = createLogger({ name: 'ghostfleet-sidecar', ...logLevelFrom({ env: process.env }) })
 * const registry = createMetricsRegistry({ defaultLabels: { service: 'sidecar' } })
 * const restarts = createCounter(registry, {
 *   name: 'ghostfleet_node_restarts_total',
 *   help: 'Node restarts by target mode.',
 *   labelNames: ['mode'],
 * })
 * const pruneSeconds = createHistogram(registry, {
 *   name: 'ghostfleet_prune_duration_seconds',
 *   help: 'Time an offline prune took, in seconds.',
 * })
 * restarts.inc({ mode: 'ghost' })
 * await observeDuration(pruneSeconds, {}, () => prune(height))
 *
 * const app = createHttpServer({
 *   registry,
 *   logger,
 *   readyz: async () => ({ status: 422, body: { status: 'catching up', diff: 1200 } }),
 *   routes: (app) => app.get('/status', (_req, res) => res.json(status())),
 * })
 * const server = await startHttpServer(app, '127.0.0.1:9090')
 * logger.info({ url: server.url }, 'serving health and metrics')
 * await server.close()
 * ```
 */

export type { Express } from 'express'
export type { Counter, Gauge, Histogram, LabelValues, Registry } from 'prom-client'
export { exponentialBuckets, linearBuckets } from 'prom-client'
export {
  createHttpServer,
  type HttpServerOptions,
  ListenError,
  type ReadinessResult,
  type StartedHttpServer,
  type StartHttpServerOptions,
  startHttpServer,
} from './http-server.js'
export { LiveFrame, type LiveFrameOptions, rowsOf } from './live-frame.js'
export {
  createLogger,
  LOG_LEVEL_ENV,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  LogLevelError,
  logLevelFrom,
} from './logger.js'
export { assertMetricName, METRIC_PREFIX, type MetricKind, MetricNameError } from './metric-names.js'
export {
  createCounter,
  createGauge,
  createHistogram,
  createMetricsRegistry,
  type GaugeSpec,
  type HistogramSpec,
  type MetricSpec,
  type MetricsRegistryOptions,
  observeDuration,
} from './metrics.js'
export {
  DEFAULT_LISTEN_HOST,
  formatHostPort,
  type ListenAddress,
  ListenAddressError,
  parseListen,
} from './parse-listen.js'
