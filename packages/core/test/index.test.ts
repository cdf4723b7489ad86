import { describe, expect, it } from 'vitest'
import * as core from '../src/index.js'

describe('public surface', () => {
  it('exports exactly the documented runtime values', () => {
    // Adding an export is a decision: other packages will depend on it. Update this list on purpose.
    expect(Object.keys(core).sort()).toEqual(
      [
        'AvailabilityBudgetError',
        'cacheWindow',
        'cacheWindowSize',
        'describeRanges',
        'HolderCoverageError',
        'minHolders',
        'soleHeldRanges',
        'ConfigError',
        'EXIT_CODES',
        'runUntilSignal',
        'backoffDelay',
        'isDispatched',
        'markDispatched',
        'runAsEntry',
        'DURATION_BOUNDS',
        'MAX_TIMER_MS',
        'MIN_TIMER_MS',
        'durationExpectation',
        'errorFields',
        'loggerOption',
        'pause',
        'silentLogger',
        'refreshSecondsSchema',
        'MEMBER_ACTIVITIES',
        'ModeInputError',
        'NODE_MODES',
        'ThresholdsError',
        'ValidationError',
        'WIRE_VERSION',
        'canonicalDesiredStatePayload',
        'checkListenAddress',
        'computeThresholds',
        'decideMode',
        'desiredStateSchema',
        'isIntegerKey',
        'parseHeightKey',
        'parseListenAddress',
        'parseWith',
        'planDisruptions',
        'REDACTED',
        'redactUrl',
        'redactUrlsIn',
        'safePruneHeight',
        'DISRUPTION_KINDS',
        'projectStalePool',
        'StalePoolInputError',
        'SIDECAR_ID_PATTERN',
        'BOOTSTRAP_ID_PATTERN',
        'CHECKPOINT_ID_PATTERN',
        'DONATION_STATES',
        'BOOTSTRAP_STATES',
        'BOOTSTRAP_API_PATH',
        'TRACKER_PEER_CHAIN_ID',
        'MAX_BOOTSTRAP_DETAIL',
        'bootstrapRequestSchema',
        'bootstrapStatusSchema',
        'MAX_REPORTED_DONATIONS',
        'donationReportSchema',
        'donationRequestSchema',
        'sidecarConfigSchema',
        'sidecarReportSchema',
        'thresholdOverridesSchema',
        'thresholdProblems',
        'thresholdsSchema',
        'trackerConfigSchema',
      ].sort(),
    )
  })

  it('names its errors', () => {
    expect(new core.ValidationError('s', ['a']).name).toBe('ValidationError')
    expect(new core.ThresholdsError(['a']).name).toBe('ThresholdsError')
    expect(new core.ModeInputError('a').name).toBe('ModeInputError')
    expect(new core.AvailabilityBudgetError('a').name).toBe('AvailabilityBudgetError')
  })
})
