/**
 * The demo's script for the simulated KYVE pool. Each cycle pauses the pool for `pauseSeconds` — the nodes keep
 * syncing and run ahead of it until they cross `height_difference_max` and go ghost, and the tracker prunes them
 * one at a time — then lets it run for `runSeconds`, catching up (bundles come faster than blocks) until the
 * nodes fall below `height_difference_min` and return to normal.
 */
export interface DemoScenario {
  pauseSeconds: number
  runSeconds: number
}

export type ScenarioPhase = 'pool paused: nodes run ahead' | 'pool catching up'

/** Which phase the scenario is in `elapsedMs` after the start. */
export function scenarioPhase(scenario: DemoScenario, elapsedMs: number): ScenarioPhase {
  const cycleMs = (scenario.pauseSeconds + scenario.runSeconds) * 1000
  return elapsedMs % cycleMs < scenario.pauseSeconds * 1000
    ? 'pool paused: nodes run ahead'
    : 'pool catching up'
}
