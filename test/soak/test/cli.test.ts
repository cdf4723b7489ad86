import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

// The built CLI, as `npm run soak -- …` runs it (turbo builds before it tests).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

async function soak(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args])
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('npm run soak -- <options>', () => {
  it('prints its usage with --help and starts nothing', async () => {
    const result = await soak(['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: npm run soak -- \[--duration <seconds>\]/)
    expect(result.stdout).toContain('--small-disks <n>')
  })

  it('answers an unknown option with its name and the usage, exit 2, not a stack trace', async () => {
    const result = await soak(['--bogus'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^Unknown option '--bogus'/)
    expect(result.stderr).toContain('Usage: npm run soak --')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('names a value out of range, exit 2', async () => {
    const result = await soak(['--duration', '5'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('--duration: at least 30 seconds\n')
  })
})
