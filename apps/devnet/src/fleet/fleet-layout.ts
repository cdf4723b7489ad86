import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

/**
 * Where the demo finds the executables it runs. The sidecar and tracker are resolved as workspace packages at
 * run time (not imported): the tracker's tests depend on devnet, so devnet cannot depend on the tracker.
 * `npm run demo` builds every workspace first.
 */
export interface FleetBinaries {
  simnode: string
  sidecar: string
  tracker: string
}

function cliOf(pkg: string, file: string): string {
  // The package's main entry is dist/index.js; its CLI sits beside it.
  return path.join(path.dirname(require.resolve(pkg)), file)
}

export function resolveFleetBinaries(): FleetBinaries {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return {
    simnode: path.resolve(here, '..', 'simnode-cli.js'),
    sidecar: cliOf('@ghostfleet/sidecar', 'cli.js'),
    tracker: cliOf('@ghostfleet/tracker', 'cli.js'),
  }
}
