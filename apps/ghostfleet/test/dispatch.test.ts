import { cp, mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runProcess } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const APP = fileURLToPath(new URL('..', import.meta.url))
const CLI = path.join(APP, 'dist', 'cli.js')
const bin = (name: string) => path.join(APP, 'bin', `${name}.js`)
const node = (args: string[]) => runProcess(process.execPath, args)

describe('ghostfleet', () => {
  it('lists its subcommands and the old names under --help', async () => {
    const r = await node([CLI, '--help'])
    expect(r.code).toBe(0)
    for (const word of ['sidecar', 'tracker', 'devnet', 'ghostfleet-simnode'])
      expect(r.stdout).toContain(word)
  })

  it('prints its version, the same as each app', async () => {
    const own = await node([CLI, '--version'])
    const sidecar = await node([CLI, 'sidecar', '--version'])
    expect(own.code).toBe(0)
    expect(own.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    // Exactly once: the sidecar's module, loaded by the dispatcher, must not also run itself on process.argv.
    expect(sidecar.stdout).toBe(own.stdout)
    const simnode = await node([CLI, 'devnet', 'simnode', 'show-node-id', '--help'])
    expect(simnode.stdout.match(/Usage:/g)).toHaveLength(1)
  })

  it('rejects an unknown subcommand with exit 2 and names the real ones', async () => {
    const r = await node([CLI, 'sidcar', 'start'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown subcommand "sidcar"')
    expect(r.stderr).toContain('sidecar, tracker, devnet')
  })

  it('exits 2 with the usage when no subcommand is given', async () => {
    const r = await node([CLI])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Usage: ghostfleet <subcommand>')
  })

  it('hands the arguments after the subcommand to that app, under the name ghostfleet <subcommand>', async () => {
    const sidecar = await node([CLI, 'sidecar', 'prune', '--help'])
    expect(sidecar.code).toBe(0)
    expect(sidecar.stdout).toContain('Usage: ghostfleet sidecar prune')
    expect(sidecar.stdout).toContain('--until-height')
    const simnode = await node([CLI, 'devnet', 'simnode', 'start', '--help'])
    expect(simnode.stdout).toContain('Usage: ghostfleet devnet simnode start')
    expect(simnode.stdout).toContain('--p2p.laddr')
    const tracker = await node([CLI, 'tracker', 'status', '--help'])
    expect(tracker.stdout).toContain('--watch')
    const devnet = await node([CLI, 'devnet', '--help'])
    expect(devnet.stdout).toMatch(/kyve[\s\S]*up[\s\S]*simnode/)
  })

  it("passes the app's usage error through (the sidecar's exit 2)", async () => {
    const r = await node([CLI, 'sidecar', 'prune', '--until-height', 'ten', '--home', '/nonexistent'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--until-height must be an integer')
  })
})

describe('the old names', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gf-alias-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.each([
    ['ghostfleet-sidecar', 'Usage: ghostfleet-sidecar [options]', 'prune'],
    ['ghostfleet-tracker', 'Usage: ghostfleet-tracker [options]', 'acl'],
    ['ghostfleet-devnet', 'Usage: ghostfleet-devnet [options]', 'kyve'],
    ['ghostfleet-simnode', 'Usage: ghostfleet-simnode [options]', 'show-node-id'],
  ])('%s (its bin shim, and a link named like it) acts as before', async (name, usage, command) => {
    const shim = await node([bin(name), '--help'])
    expect(shim.code).toBe(0)
    expect(shim.stdout).toContain(usage)
    expect(shim.stdout).toContain(command)
    // How npm links it (node_modules/.bin/<name> -> the shim), and how an operator links the old name.
    const link = path.join(dir, name)
    await symlink(bin('ghostfleet'), link)
    const linked = await node([link, '--help'])
    expect(linked.stdout).toContain(usage)
  })

  it('a shim whose program is not built yet says to run the build', async () => {
    const app = path.join(dir, 'unbuilt', 'apps', 'ghostfleet')
    await cp(path.join(APP, 'bin'), path.join(app, 'bin'), { recursive: true })
    const r = await node([path.join(app, 'bin', 'ghostfleet-sidecar.js'), '--help'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('run `npm run build`')
    expect(r.stderr).toContain(path.join(dir, 'unbuilt'))
  })
})
