/**
 * The chaos soak: a real local fleet (redis-server, a producer, the KYVE simulator with two pools, two trackers,
 * six sidecars with their nodes) under a seeded fault schedule, judged by invariant checkers.
 *
 * ```ts
 * import { runSoak } from '@ghostfleet/soak'
 * const report = await runSoak({ seed: 7, durationSeconds: 60, reportFile: '/tmp/soak.json', keep: false, say: console.log })
 * if (report.violations.length > 0) process.exitCode = 1
 * ```
 */
export { AddressBookChecker, addressBookEntries } from './checkers/address-book.js'
export { AvailabilityTally, poolServed } from './checkers/availability.js'
export { BudgetChecker, isDown } from './checkers/budget.js'
export { unsettled } from './checkers/convergence.js'
export { FencingChecker, type RedisSnapshot, type TrackerRole } from './checkers/fencing.js'
export { checkValidatedBase } from './checkers/validated-blocks.js'
export { CHECKERS, type CheckerName, Ledger, type Violation } from './ledger.js'
export { Prng } from './prng.js'
export { formatTable, type SoakReport, summaryLine } from './report.js'
export { FAULT_KINDS, type FaultKind, type PlannedFault, planFaults } from './schedule.js'
export { parseSidecarStatus, type SidecarSample } from './sidecar-sample.js'
export { CONVERGENCE_BOUND_MS, runSoak, type SoakOptions } from './soak.js'
