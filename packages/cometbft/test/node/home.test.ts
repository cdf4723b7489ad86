import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { inspectNodeHome, NotANodeHomeError, requireNodeHome } from '../../src/node/index.js'

let dir: TempDir
let home: string

beforeEach(async () => {
  dir = await tempDir('ghostfleet-home-')
  home = path.join(dir.path, 'osmosis')
  await mkdir(path.join(home, 'config'), { recursive: true })
  await mkdir(path.join(home, 'data'))
  await writeFile(path.join(home, 'config', 'config.toml'), 'moniker = "n"\n')
  await writeFile(path.join(home, 'config', 'app.toml'), 'pruning = "default"\n')
})

afterEach(async () => {
  await dir.remove()
})

describe('inspectNodeHome', () => {
  it('accepts a complete home', async () => {
    const report = await inspectNodeHome(home)
    expect(report.ok).toBe(true)
    expect(report.problems).toEqual([])
    expect(report.error).toBeUndefined()
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['config/config.toml', true],
      ['config/app.toml', true],
      ['data/', true],
    ])
    await expect(requireNodeHome(home)).resolves.toMatchObject({ ok: true })
  })

  it('says exactly what is missing', async () => {
    await rm(path.join(home, 'config', 'config.toml'))
    const report = await inspectNodeHome(home)
    expect(report.ok).toBe(false)
    expect(report.error).toBeInstanceOf(NotANodeHomeError)
    expect(report.error?.message).toBe(`${home} is not a CometBFT home: config/config.toml not found`)
  })

  it('lists every problem at once', async () => {
    await rm(path.join(home, 'config', 'app.toml'))
    await rm(path.join(home, 'data'), { recursive: true })
    const error = await requireNodeHome(home).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotANodeHomeError)
    expect((error as NotANodeHomeError).problems).toEqual(['config/app.toml not found', 'data/ not found'])
    expect((error as Error).message).toBe(
      `${home} is not a CometBFT home: config/app.toml not found; data/ not found`,
    )
  })

  it('reports a home that does not exist or is a file', async () => {
    const missing = path.join(dir.path, 'nope')
    expect((await inspectNodeHome(missing)).error?.message).toBe(
      `${missing} is not a CometBFT home: the directory does not exist`,
    )
    const file = path.join(dir.path, 'file')
    await writeFile(file, '')
    expect((await inspectNodeHome(file)).error?.message).toBe(
      `${file} is not a CometBFT home: it is not a directory`,
    )
  })

  it('reports entries of the wrong kind', async () => {
    await rm(path.join(home, 'config', 'app.toml'))
    await mkdir(path.join(home, 'config', 'app.toml'))
    await rm(path.join(home, 'data'), { recursive: true })
    await writeFile(path.join(home, 'data'), '')
    expect((await inspectNodeHome(home)).problems).toEqual([
      'config/app.toml is not a file',
      'data/ is not a directory',
    ])
  })

  it("checks the data directory config.toml's db_dir points to", async () => {
    const elsewhere = path.join(dir.path, 'nvme', 'osmosis-data')
    await writeFile(path.join(home, 'config', 'config.toml'), `db_dir = "${elsewhere}"\n`)
    await rm(path.join(home, 'data'), { recursive: true })
    expect((await inspectNodeHome(home)).problems).toEqual([`${elsewhere} (db_dir) not found`])
    await mkdir(elsewhere, { recursive: true })
    expect((await inspectNodeHome(home)).ok).toBe(true)

    await writeFile(path.join(home, 'config', 'config.toml'), 'db_dir = "chain"\n')
    expect((await inspectNodeHome(home)).problems).toEqual(['chain/ not found'])
  })

  it('reports an invalid config.toml', async () => {
    await writeFile(path.join(home, 'config', 'config.toml'), 'db_dir = [\n')
    const report = await inspectNodeHome(home)
    expect(report.problems).toHaveLength(1)
    expect(report.problems[0]).toMatch(/^config\/config\.toml is invalid \(.*not valid TOML at line/)
  })
})
