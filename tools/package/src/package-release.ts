/**
 * `npm run package`: the release artifacts in one directory —
 * `ghostfleet-<platform>` single executables, the systemd units and `SHA256SUMS`.
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { z } from 'zod'
import { ADDON_ASSET, bundle } from './bundle.js'
import { writeChecksums } from './checksums.js'
import { nodeBinary } from './node-binary.js'
import { makeSea } from './sea.js'
import type { Target } from './targets.js'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

export interface PackageOptions {
  /** The compiled CLI entry; its package.json (one level up from dist/) gives the version. */
  entry: string
  targets: readonly Target[]
  /** The release directory (emptied first). */
  outDir: string
  /** Bundle, blobs, node binaries between runs. */
  cacheDir: string
  /** Artifact base name: `<name>-<platform>`. */
  name: string
  /** Files shipped beside the executables as they are (the systemd units), in SHA256SUMS too. */
  extraFiles: string[]
  log: (line: string) => void
}

export interface Artifact {
  target: string
  file: string
  bytes: number
}

export interface PackageResult {
  version: string
  nodeVersion: string
  artifacts: Artifact[]
  checksums: string
  bundleBytes: number
}

const manifest = z.object({ version: z.string().min(1) })

async function timed<T>(log: (line: string) => void, what: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const result = await step()
  log(`${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  return result
}

/**
 * Runs the executable built for this machine from an empty directory with an empty environment, as an operator's
 * first command would: catches a blob the binary does not accept, or a bundle that fails before parsing arguments.
 */
async function smokeTest(file: string, version: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ghostfleet-smoke-'))
  try {
    const { stdout } = await run(file, ['--version'], {
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      timeout: 30_000,
    })
    if (stdout.trim() !== version)
      throw new Error(`${file} --version printed ${JSON.stringify(stdout)}, not ${version}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function packageRelease(options: PackageOptions): Promise<PackageResult> {
  const { log } = options
  const entry = path.resolve(options.entry)
  const version = manifest.parse(
    JSON.parse(await readFile(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')),
  ).version
  const nodeVersion = process.versions.node
  const workDir = path.join(options.cacheDir, 'work')
  await rm(options.outDir, { recursive: true, force: true })
  await rm(workDir, { recursive: true, force: true })
  await mkdir(options.outDir, { recursive: true })
  await mkdir(workDir, { recursive: true })
  log(
    `${options.name} ${version} on Node ${nodeVersion} for ${options.targets.map((t) => t.name).join(', ')}`,
  )

  const main = path.join(workDir, `${options.name}.cjs`)
  const bundled = await timed(log, `bundled ${path.relative(process.cwd(), entry)}`, () =>
    bundle({ entry, outfile: main, version }),
  )
  const classicLevel = path.dirname(require.resolve('classic-level/package.json'))
  const artifacts: Artifact[] = []
  for (const target of options.targets) {
    const binary = await timed(log, `node ${nodeVersion} for ${target.name}`, () =>
      nodeBinary(target, nodeVersion, options.cacheDir),
    )
    const output = path.join(options.outDir, `${options.name}-${target.name}`)
    await timed(log, `single executable ${path.basename(output)}`, () =>
      makeSea({
        main,
        assets: { [ADDON_ASSET]: path.join(classicLevel, target.addon) },
        nodeBinary: binary,
        output,
        workDir,
        // A V8 code cache would save ~50 ms of CPU at start-up, but V8 writes it differently on each run, and a
        // release whose SHA256SUMS anyone can reproduce from the same commit is worth more.
        useCodeCache: false,
      }),
    )
    if (target.arch === process.arch && process.platform === 'linux')
      await timed(log, `${path.basename(output)} --version from an empty directory`, () =>
        smokeTest(output, version),
      )
    artifacts.push({ target: target.name, file: output, bytes: (await stat(output)).size })
  }
  const extras: string[] = []
  for (const file of options.extraFiles) {
    const copy = path.join(options.outDir, path.basename(file))
    await copyFile(file, copy)
    extras.push(copy)
  }
  const checksums = await writeChecksums(options.outDir, [...artifacts.map((a) => a.file), ...extras])
  return { version, nodeVersion, artifacts, checksums, bundleBytes: bundled.bytes }
}
