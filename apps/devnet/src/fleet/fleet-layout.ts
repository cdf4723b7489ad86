import { mkdir, rm, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { isSea } from 'node:sea'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

/**
 * Where the demo finds the executables it runs. From the repository they are the apps' built `cli.js` files, run
 * by this node; the sidecar and tracker are resolved as workspace packages at run time (not imported): the
 * tracker's tests depend on devnet, so devnet cannot depend on the tracker. `npm run demo` builds every workspace
 * first. The release's single executable has no such files: there, each is a link to the executable itself under
 * its old name (`ghostfleet-sidecar`, …), which the executable runs as that subcommand.
 */
export interface FleetBinaries {
  /** The simulated node; also the chain binary each sidecar launches (`init --binary`), so an executable file. */
  simnode: string
  sidecar: string
  tracker: string
  /**
   * What runs the three: a program taking the file as its first argument (this node, for the repository's
   * scripts), or null when each file is an executable of its own. @default process.execPath
   */
  runner?: string | null
}

/** A program and its arguments, ready to spawn. */
export interface FleetCommand {
  command: string
  args: string[]
}

/** The command that runs `file` (one of `bins`) with `args`. */
export function fleetCommand(bins: FleetBinaries, file: string, args: readonly string[]): FleetCommand {
  const runner = bins.runner === undefined ? process.execPath : bins.runner
  return runner === null ? { command: file, args: [...args] } : { command: runner, args: [file, ...args] }
}

function cliOf(pkg: string, file: string): string {
  // The package's main entry is dist/index.js; its CLI sits beside it.
  return path.join(path.dirname(require.resolve(pkg)), file)
}

/** The repository's built CLI scripts (workspaces built). */
export function resolveFleetBinaries(): FleetBinaries {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return {
    simnode: path.resolve(here, '..', 'simnode-cli.js'),
    sidecar: cliOf('@ghostfleet/sidecar', 'cli.js'),
    tracker: cliOf('@ghostfleet/tracker', 'cli.js'),
  }
}

/**
 * The executables for a fleet started by this process: the repository's scripts, or inside the single executable
 * links to it made in `binDir` (`ghostfleet-simnode`, `ghostfleet-sidecar`, `ghostfleet-tracker`).
 */
export async function localFleetBinaries(binDir: string): Promise<FleetBinaries> {
  if (!isSea()) return resolveFleetBinaries()
  await mkdir(binDir, { recursive: true })
  const link = async (name: string) => {
    const file = path.join(binDir, name)
    await rm(file, { force: true })
    await symlink(process.execPath, file)
    return file
  }
  return {
    simnode: await link('ghostfleet-simnode'),
    sidecar: await link('ghostfleet-sidecar'),
    tracker: await link('ghostfleet-tracker'),
    runner: null,
  }
}
