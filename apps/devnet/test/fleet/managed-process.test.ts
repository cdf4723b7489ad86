import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { eventually, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManagedProcess } from '../../src/fleet/managed-process.js'

/*
 * A sidecar launches its node as the leader of a process group of its own, so killing the sidecar's group does
 * not reach the node. A group-leading ManagedProcess that has to be killed must take those groups along.
 */

let dir: TempDir
const pids: number[] = []
beforeEach(async () => {
  dir = await tempDir('gf-managed-')
})
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone, as it should be
    }
  }
  await dir.remove()
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('ManagedProcess', () => {
  it('kills the process groups its stuck leader launched when it kills the leader', async () => {
    const pidFile = path.join(dir.path, 'node.pid')
    // A "sidecar" that ignores SIGTERM and launches a detached "node" (its own process group).
    const script = `
      const { spawn } = require('node:child_process')
      const { writeFileSync } = require('node:fs')
      const node = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { detached: true, stdio: 'ignore' })
      writeFileSync(${JSON.stringify(pidFile)}, String(node.pid))
      process.on('SIGTERM', () => {})
      setInterval(() => {}, 1 << 30)
    `
    const proc = new ManagedProcess(
      'sidecar',
      process.execPath,
      ['-e', script],
      path.join(dir.path, 'sidecar.log'),
      {},
      { group: true },
    )
    pids.push(proc.pid as number)
    const nodePid = await eventually(async () => Number(await readFile(pidFile, 'utf8')))
    expect(nodePid).toBeGreaterThan(0)
    pids.push(nodePid)
    expect(await proc.stop(300)).toBe('SIGKILL')
    await eventually(() => expect(alive(nodePid)).toBe(false))
  })
})
