import { cp, mkdir, readdir, realpath, stat, symlink } from 'node:fs/promises'
import path from 'node:path'
import { type FleetBinaries, resolveFleetBinaries } from '@ghostfleet/devnet'

/*
 * A soak runs for half an hour; the working tree may be rebuilt meanwhile (a `turbo run build` in another
 * terminal replaces every dist/ file), and a tracker or sidecar restarted by the soak would then load a mix of
 * two builds. So the fleet runs from a copy: every workspace's package.json and dist/ under
 * `<dir>/runtime/node_modules/@ghostfleet/`, every third-party package linked from the repository's
 * node_modules (Node resolves a link to its real path, so their own dependencies resolve as usual).
 */

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch {
    return false
  }
}

/** Copies the built workspaces under `dir` and returns the fleet's executables inside the copy. */
export async function snapshotRuntime(dir: string): Promise<FleetBinaries> {
  // apps/devnet/dist/simnode-cli.js → the repository root.
  const root = path.resolve(path.dirname(resolveFleetBinaries().simnode), '..', '..', '..')
  const modules = path.join(root, 'node_modules')
  const target = path.join(dir, 'runtime', 'node_modules')
  const scoped = path.join(target, '@ghostfleet')
  await mkdir(scoped, { recursive: true })
  for (const entry of await readdir(modules)) {
    if (entry === '@ghostfleet' || entry.startsWith('.')) continue
    await symlink(path.join(modules, entry), path.join(target, entry))
  }
  for (const name of await readdir(path.join(modules, '@ghostfleet'))) {
    const workspace = await realpath(path.join(modules, '@ghostfleet', name))
    if (!(await exists(path.join(workspace, 'dist')))) continue
    const copy = path.join(scoped, name)
    await mkdir(copy)
    await cp(path.join(workspace, 'package.json'), path.join(copy, 'package.json'))
    await cp(path.join(workspace, 'dist'), path.join(copy, 'dist'), { recursive: true })
    if (await exists(path.join(workspace, 'node_modules'))) {
      await symlink(path.join(workspace, 'node_modules'), path.join(copy, 'node_modules'))
    }
  }
  return {
    simnode: path.join(scoped, 'devnet', 'dist', 'simnode-cli.js'),
    sidecar: path.join(scoped, 'sidecar', 'dist', 'cli.js'),
    tracker: path.join(scoped, 'tracker', 'dist', 'cli.js'),
  }
}
