#!/usr/bin/env node
/**
 * `npm run package` (after the workspaces are built):
 *   node tools/package/dist/cli.js [--entry <dist/cli.js>] [--targets linux-x64,linux-arm64] [--out <dir>]
 *     [--units <dir of files shipped as they are>]
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { packageRelease } from './package-release.js'
import { TARGETS, targetNamed } from './targets.js'

const MB = 1024 * 1024

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      entry: { type: 'string', default: 'apps/ghostfleet/dist/cli.js' },
      targets: { type: 'string', default: TARGETS.map((t) => t.name).join(',') },
      out: { type: 'string', default: 'dist/release' },
      name: { type: 'string', default: 'ghostfleet' },
      // The systemd units and their environment file, so an install from the release alone has them.
      units: { type: 'string', default: 'deploy/systemd' },
    },
    strict: true,
  })
  const started = performance.now()
  const result = await packageRelease({
    entry: values.entry,
    targets: values.targets.split(',').map((name) => targetNamed(name.trim())),
    outDir: path.resolve(values.out),
    cacheDir: path.resolve('node_modules/.cache/ghostfleet-package'),
    name: values.name,
    extraFiles: (await readdir(values.units)).sort().map((file) => path.join(values.units, file)),
    log: (line) => console.log(`package: ${line}`),
  })
  console.log(`package: bundle ${(result.bundleBytes / MB).toFixed(1)} MB`)
  for (const artifact of result.artifacts)
    console.log(
      `package: ${path.relative(process.cwd(), artifact.file)}  ${(artifact.bytes / MB).toFixed(1)} MB`,
    )
  console.log(`package: ${path.relative(process.cwd(), result.checksums)}`)
  console.log(`package: done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(`package: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  },
)
