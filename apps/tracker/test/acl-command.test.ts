import { stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { closeRedis, createRedis, keysOf, type RedisClient } from '@ghostfleet/coordination'
import {
  eventually,
  runProcess,
  startRedis,
  type TempDir,
  type TestRedis,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

let server: TestRedis
let dir: TempDir
const clients: RedisClient[] = []

beforeAll(async () => {
  server = await startRedis()
  dir = await tempDir('gf-acl-cli-')
})
afterAll(async () => {
  await Promise.all(clients.map((client) => closeRedis(client)))
  await server.stop()
  await dir.remove()
})

/** Runs `ghostfleet-tracker acl …` as a real process. */
async function acl(...args: string[]) {
  return await runProcess(process.execPath, [CLI, 'acl', ...args])
}

/** Feeds the printed lines to the real redis-cli, the way an operator would. */
async function applyWithRedisCli(commands: string): Promise<string> {
  const file = path.join(dir.path, `commands-${Date.now()}.txt`)
  await writeFile(file, commands)
  const run = await runProcess('sh', ['-c', `redis-cli -p ${server.port} < "${file}"`])
  expect(run.code).toBe(0)
  return run.stdout
}

async function login(username: string, password: string): Promise<RedisClient> {
  const client = createRedis({ role: 'sidecar', url: server.url, username, password })
  clients.push(client)
  await eventually(() => expect(client.status).toBe('ready'))
  return client
}

describe('ghostfleet-tracker acl', () => {
  it('prints commands redis-cli accepts, with the passwords from the file hashed, and generates the rest', async () => {
    const passwords = path.join(dir.path, 'passwords')
    await writeFile(passwords, '# operator-kept passwords\ngf-sidecar-osmo-a Zq-file-secret-a\n\n')
    const run = await acl('--sidecar', 'osmo-a', 'osmo-b', '--monitor', '--passwords', passwords)
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines).toHaveLength(4)
    expect(lines.map((line) => line.split(' ')[2])).toEqual([
      'gf-tracker',
      'gf-sidecar-osmo-a',
      'gf-sidecar-osmo-b',
      'gf-monitor',
    ])
    expect(run.stdout).not.toContain('Zq-file-secret-a')
    // Generated passwords go to stderr, once: for every user that the file did not list.
    const generated = new Map(
      run.stderr
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => line.split(' ') as [string, string]),
    )
    expect([...generated.keys()]).toEqual(['gf-tracker', 'gf-sidecar-osmo-b', 'gf-monitor'])
    for (const password of generated.values()) {
      expect(password).toMatch(/^[0-9a-f]{64}$/)
      expect(run.stdout).not.toContain(password)
    }

    expect(await applyWithRedisCli(run.stdout)).toBe('OK\nOK\nOK\nOK\n')

    const a = await login('gf-sidecar-osmo-a', 'Zq-file-secret-a')
    const b = await login('gf-sidecar-osmo-b', generated.get('gf-sidecar-osmo-b') ?? '')
    const keys = keysOf(a)
    await a.hset(keys.report('osmo-a'), 'mode', '"normal"')
    await expect(a.hset(keys.report('osmo-b'), 'mode', '"ghost"')).rejects.toThrow(/NOPERM/)
    // A sidecar reads its siblings' reports (the gateway routes on them) but never writes them.
    expect(await b.hgetall(keys.report('osmo-a'))).toEqual({ mode: '"normal"' })
    await expect(b.hset(keys.report('osmo-a'), 'mode', '"ghost"')).rejects.toThrow(/NOPERM/)
    await expect(b.hgetall(keys.desired('osmo-a'))).rejects.toThrow(/NOPERM/)
    const tracker = await login('gf-tracker', generated.get('gf-tracker') ?? '')
    expect(await tracker.hgetall(keys.report('osmo-a'))).toEqual({ mode: '"normal"' })
  })

  it('running the commands again replaces the rules instead of adding to them', async () => {
    const run = await acl('--no-tracker', '--sidecar', 'osmo-a')
    expect(await applyWithRedisCli(run.stdout)).toBe('OK\n')
    const users = await runProcess('redis-cli', [
      '-p',
      String(server.port),
      'ACL',
      'GETUSER',
      'gf-sidecar-osmo-a',
    ])
    // One password hash (the new one), not two.
    expect(users.stdout.match(/[0-9a-f]{64}/g)).toHaveLength(1)
  })

  it('writes generated passwords to a new 0600 file instead of stderr, and never over an existing one', async () => {
    const out = path.join(dir.path, 'generated')
    const run = await acl('--sidecar', 'osmo-c', '--write-passwords', out)
    expect(run.code).toBe(0)
    expect(run.stderr).not.toMatch(/[0-9a-f]{64}/)
    expect((await stat(out)).mode & 0o777).toBe(0o600)
    const again = await acl('--sidecar', 'osmo-c', '--write-passwords', out)
    expect(again.code).toBe(2)
    expect(again.stdout).toBe('')
  })

  it('refuses a sidecar id that cannot be a key part, naming it', async () => {
    const run = await acl('--sidecar', 'a}b')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/sidecar id/)
    expect(run.stdout).toBe('')
  })
})
