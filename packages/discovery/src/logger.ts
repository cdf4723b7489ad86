import type { StructuredLogger } from '@ghostfleet/core'

/** The logging surface this package needs (pino's shape; a pino logger can be passed as is). */
export type DiscoveryLogger = StructuredLogger

export { errorFields, silentLogger } from '@ghostfleet/core'
