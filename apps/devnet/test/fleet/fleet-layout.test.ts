import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fleetCommand, localFleetBinaries, resolveFleetBinaries } from '../../src/fleet/fleet-layout.js'

/* How the demo fleet starts its programs: the repository's scripts under this node, or (inside the release's
 * single executable, covered by test/e2e/artifact.test.ts) links that are executables of their own. */

describe('fleet layout', () => {
  it('from the repository: the built scripts, run by this node, and no links made', async () => {
    const bins = await localFleetBinaries('/nonexistent/ghostfleet-bin')
    expect(bins).toEqual(resolveFleetBinaries())
    expect(existsSync('/nonexistent/ghostfleet-bin')).toBe(false)
    expect(bins.simnode).toMatch(/[\\/]simnode-cli\.js$/)
    expect(fleetCommand(bins, bins.tracker, ['status', '--json'])).toEqual({
      command: process.execPath,
      args: [bins.tracker, 'status', '--json'],
    })
  })

  it('with no runner each file is the program itself (the executable under an old name)', () => {
    const bins = {
      simnode: '/w/bin/ghostfleet-simnode',
      sidecar: '/w/bin/ghostfleet-sidecar',
      tracker: '/w/bin/ghostfleet-tracker',
      runner: null,
    }
    expect(fleetCommand(bins, bins.sidecar, ['start', '--config', '/w/c'])).toEqual({
      command: '/w/bin/ghostfleet-sidecar',
      args: ['start', '--config', '/w/c'],
    })
  })
})
