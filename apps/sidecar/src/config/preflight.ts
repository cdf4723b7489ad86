import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import path from 'node:path'

/*
 * Local checks that end a command with a clear message before anything is written or launched.
 */

/** The node binary (or cosmovisor) cannot be run. */
export class BinaryProblemError extends Error {
  override readonly name = 'BinaryProblemError'
}

/**
 * Checks that `binary` names an executable file. A bare name (`osmosisd`) is looked up on PATH, as the
 * launcher will do.
 *
 * @returns the absolute path that will be executed.
 */
export async function checkExecutable(binary: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = binary.includes('/')
    ? [path.resolve(binary)]
    : (env['PATH'] ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, binary))
  if (candidates.length === 0) throw new BinaryProblemError(`${binary} is not on PATH (PATH is empty)`)
  let lastProblem = `${binary} was not found${binary.includes('/') ? '' : ' on PATH'}`
  for (const candidate of candidates) {
    let info: Awaited<ReturnType<typeof stat>>
    try {
      info = await stat(candidate)
    } catch {
      continue
    }
    if (!info.isFile()) {
      lastProblem = `${candidate} is not a file`
      continue
    }
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      lastProblem = `${candidate} is not executable (chmod +x ${candidate})`
    }
  }
  throw new BinaryProblemError(lastProblem)
}
