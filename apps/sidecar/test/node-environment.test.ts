import { chmod, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { eventually, FAKE_NODE as fakeNode, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { launchSpecFor } from '../src/supervisor/launch-spec.js'
import { NodeProcess } from '../src/supervisor/node-process.js'
import { NODE_MARKER_ENV } from '../src/supervisor/process-inspect.js'

/*
 * The chain binary must not see the sidecar's secrets: the fleet signing key, the Redis URL (with its
 * password) and the Consul token are the sidecar's, and a node's environment is readable by anything that can
 * read /proc/<pid>/environ of the node user (and ends up in crash dumps and support bundles).
 */
const SECRETS: Record<string, string> = {
  GHOSTFLEET_FLEET_KEY: 'fleet-key-0123456789abcdef0123456789abcdef',
  GHOSTFLEET_REDIS_URL: 'redis://sidecar:S3cr3t-r3dis-pw@10.0.0.5:6379/0',
  GHOSTFLEET_CONSUL_TOKEN: 'c0nsul-t0ken-5f1e2d3c-aaaa-bbbb-cccc-ddddeeeeffff',
}

describe("the node's environment", () => {
  let dir: TempDir
  let node: NodeProcess | undefined
  const saved = new Map<string, string | undefined>()

  beforeEach(async () => {
    dir = await tempDir('gf-env-')
    for (const [name, value] of Object.entries({ ...SECRETS, OPERATOR_SETTING: 'kept' })) {
      saved.set(name, process.env[name])
      process.env[name] = value
    }
  })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    saved.clear()
    await dir.remove()
  })

  it('carries no Ghostfleet secret, keeps the marker and the operator environment', async () => {
    // A chain binary that dumps its environment, launched by the real supervisor and launch spec.
    const binary = path.join(dir.path, 'chaind')
    const dump = path.join(dir.path, 'env.json')
    await writeFile(binary, `#!/bin/sh\nexec "${process.execPath}" "${fakeNode}" "$@"\n`)
    await chmod(binary, 0o755)
    process.env['FAKE_NODE_ENV_DUMP'] = dump
    saved.set('FAKE_NODE_ENV_DUMP', undefined)
    const configDir = path.join(dir.path, 'config')
    node = new NodeProcess({
      launchSpec: () =>
        launchSpecFor(
          { binary, home: path.join(dir.path, 'home'), launcher: 'binary', flags: '', configDir },
          'normal',
        ),
      output: { kind: 'file', path: path.join(dir.path, 'node.log') },
      stopGraceMs: 5_000,
      backoff: { initialMs: 1_000, maxMs: 2_000, resetAfterMs: 60_000 },
    })
    await node.start()
    const env = await eventually(
      async () => JSON.parse(await readFile(dump, 'utf8')) as Record<string, string>,
      { description: 'the node to dump its environment' },
    )
    for (const name of Object.keys(SECRETS)) expect(env[name], name).toBeUndefined()
    const everything = JSON.stringify(env)
    for (const value of Object.values(SECRETS)) expect(everything).not.toContain(value)
    expect(everything).not.toContain('S3cr3t-r3dis-pw')
    expect(env[NODE_MARKER_ENV]).toBe(configDir)
    expect(env['OPERATOR_SETTING']).toBe('kept')
    expect(env['PATH']).toBe(process.env['PATH'])
  })
})
