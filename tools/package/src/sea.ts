/**
 * Makes a Node single executable application (SEA): the preparation blob (bundled script + assets) written by
 * `node --experimental-sea-config`, injected by postject into a copy of the target platform's official node binary.
 * https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html
 */
import { execFile } from 'node:child_process'
import { chmod, copyFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

/** The fuse string Node's binary carries; postject flips it so the binary looks for its blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

export interface SeaOptions {
  /** The CommonJS bundle to run. */
  main: string
  /** SEA assets: name → file. */
  assets: Record<string, string>
  /** The target's node binary, copied and injected. */
  nodeBinary: string
  /** The executable to write. */
  output: string
  /** Work files (config, blob) go here. */
  workDir: string
  /**
   * V8 code cache in the blob: faster start-up, but only valid for the architecture that made it (the blob is
   * made by the node running this tool), so only for a target of that architecture.
   */
  useCodeCache: boolean
}

export async function makeSea(options: SeaOptions): Promise<void> {
  const name = path.basename(options.output)
  const blob = path.join(options.workDir, `${name}.blob`)
  const config = path.join(options.workDir, `${name}.sea-config.json`)
  await writeFile(
    config,
    JSON.stringify({
      main: options.main,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: options.useCodeCache,
      assets: options.assets,
    }),
  )
  // The blob's format belongs to the Node version, so the node running this tool must be the target's version.
  await run(process.execPath, ['--experimental-sea-config', config], { maxBuffer: 1 << 20 })
  await copyFile(options.nodeBinary, options.output)
  await chmod(options.output, 0o755)
  const postject = require.resolve('postject/dist/cli.js')
  await run(
    process.execPath,
    [postject, options.output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE],
    { maxBuffer: 1 << 20 },
  )
}
