import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bundle } from '../src/bundle.js'

const run = promisify(execFile)
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))

let out: string
beforeEach(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'gf-bundle-'))
})
afterEach(async () => {
  await rm(out, { recursive: true, force: true })
})

describe('bundle: one CommonJS file a single executable can run', () => {
  it("routes classic-level's native binding to the embedded addon instead of node-gyp-build", async () => {
    const outfile = path.join(out, 'addon.cjs')
    const result = await bundle({
      entry: path.join(FIXTURES, 'addon', 'entry.js'),
      outfile,
      version: '9.9.9',
    })
    const code = await readFile(outfile, 'utf8')
    expect(code).toMatch(/loadEmbeddedAddon\d*\("classic-level\.node", "9\.9\.9"\)/)
    expect(result.inputs.some((file) => file.includes('classic-level'))).toBe(true)
    expect(result.inputs.filter((file) => file.includes('node-gyp-build'))).toEqual([])
    expect(code).not.toMatch(/require\("node-gyp-build"\)/)
  })

  it('inlines a file read next to a module, so the bundle runs without it', async () => {
    const outfile = path.join(out, 'version.cjs')
    await bundle({ entry: path.join(FIXTURES, 'version', 'lib', 'entry.js'), outfile, version: '0.0.0' })
    expect(await readFile(outfile, 'utf8')).not.toContain('import.meta')
    // The fixture lives in lib/, not dist/: dist/ is ignored by git, so a fresh clone would not have it.
    // Run from elsewhere: the package.json beside the fixture is not reachable from the bundle's directory.
    const { stdout } = await run(process.execPath, [outfile], { cwd: out })
    expect(stdout.trim()).toBe('7.8.9')
  })

  it('refuses an import.meta it has no rewrite for, rather than bundling an empty one', async () => {
    await expect(
      bundle({
        entry: path.join(FIXTURES, 'meta', 'entry.js'),
        outfile: path.join(out, 'meta.cjs'),
        version: '0',
      }),
    ).rejects.toThrow(/import\.meta/)
  })

  it('refuses a bundle that would carry the test kit', async () => {
    await expect(
      bundle({
        entry: path.join(FIXTURES, 'test-code', 'entry.js'),
        outfile: path.join(out, 'test-code.cjs'),
        version: '0',
      }),
    ).rejects.toThrow(/test code: .*test\/kit\/src\/eventually\.js/)
  })
})
