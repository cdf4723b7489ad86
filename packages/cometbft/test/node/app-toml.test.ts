import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { parse } from 'smol-toml'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  APP_TOML_BACKUP_NAME,
  applyPruningSettings,
  InvalidPruningSettingsError,
  NodeConfigError,
  readPruningSettings,
} from '../../src/node/index.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'toml')
const SETTINGS = { keepRecent: 259_200, interval: 100 }

let home: TempDir
let appToml: string

beforeEach(async () => {
  home = await tempDir('ghostfleet-app-toml-')
  await mkdir(path.join(home.path, 'config'))
  appToml = path.join(home.path, 'config', 'app.toml')
})

afterEach(async () => {
  await home.remove()
})

/** Line numbers (0-based) where two texts differ; both must have the same number of lines. */
function changedLines(before: string, after: string): number[] {
  const a = before.split('\n')
  const b = after.split('\n')
  expect(b.length).toBe(a.length)
  return a.flatMap((line, i) => (line === b[i] ? [] : [i]))
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('applyPruningSettings on a Cosmos SDK v0.50 app.toml', () => {
  it('changes exactly the five values and keeps every other byte', async () => {
    await copyFile(path.join(fixtures, 'app-sdk-v050.toml'), appToml)
    const original = await readFile(appToml, 'utf8')

    const result = await applyPruningSettings(home.path, SETTINGS)

    expect(result.changes).toEqual([
      { key: 'pruning', old: '"default"', new: '"custom"' },
      { key: 'pruning-keep-recent', old: '"0"', new: '"259200"' },
      { key: 'pruning-interval', old: '"0"', new: '"100"' },
      { key: 'min-retain-blocks', old: '100000', new: '0' },
      { key: 'state-sync.snapshot-interval', old: '1500', new: '0' },
    ])
    const updated = await readFile(appToml, 'utf8')
    const before = original.split('\n')
    const after = updated.split('\n')
    expect(changedLines(original, updated).map((i) => [before[i], after[i]])).toEqual([
      ['pruning = "default"', 'pruning = "custom"'],
      ['pruning-keep-recent = "0"', 'pruning-keep-recent = "259200"'],
      ['pruning-interval = "0"', 'pruning-interval = "100"'],
      ['min-retain-blocks = 100000', 'min-retain-blocks = 0'],
      ['snapshot-interval = 1500', 'snapshot-interval = 0'],
    ])
    expect(await readPruningSettings(home.path)).toEqual({
      file: appToml,
      pruning: 'custom',
      keepRecent: 259_200,
      interval: 100,
      minRetainBlocks: 0,
      snapshotInterval: 0,
    })
  })

  it('keeps the original as a backup that later runs never overwrite', async () => {
    await copyFile(path.join(fixtures, 'app-sdk-v050.toml'), appToml)
    const original = await readFile(appToml)
    const first = await applyPruningSettings(home.path, SETTINGS)
    const backup = path.join(home.path, 'config', APP_TOML_BACKUP_NAME)
    expect(first.backupFile).toBe(backup)
    expect(await readFile(backup)).toEqual(original)

    const second = await applyPruningSettings(home.path, { keepRecent: 1000, interval: 50 })
    expect(second.changes.map((c) => c.key)).toEqual(['pruning-keep-recent', 'pruning-interval'])
    expect(second.backupFile).toBe(backup)
    expect(await readFile(backup)).toEqual(original)
  })

  it('writes the backup to backupDir when given (creating it)', async () => {
    await copyFile(path.join(fixtures, 'app-sdk-v050.toml'), appToml)
    const original = await readFile(appToml)
    const backupDir = path.join(home.path, 'ghostfleet', 'backups')
    const result = await applyPruningSettings(home.path, SETTINGS, { backupDir })
    expect(result.backupFile).toBe(path.join(backupDir, APP_TOML_BACKUP_NAME))
    expect(await readFile(path.join(backupDir, APP_TOML_BACKUP_NAME))).toEqual(original)
    expect(await readdir(path.join(home.path, 'config'))).toEqual(['app.toml'])
  })

  it('is idempotent: a second run reports no change and does not write', async () => {
    await copyFile(path.join(fixtures, 'app-sdk-v050.toml'), appToml)
    await applyPruningSettings(home.path, SETTINGS)
    const written = await readFile(appToml)
    const inode = (await stat(appToml)).ino
    const again = await applyPruningSettings(home.path, SETTINGS)
    expect(again).toEqual({ file: appToml, changes: [], backupFile: undefined })
    // An atomic write replaces the file (new inode); no write keeps it.
    expect((await stat(appToml)).ino).toBe(inode)
    expect(await readFile(appToml)).toEqual(written)
  })

  it('does not write or back up a file that already has the settings', async () => {
    await writeFile(
      appToml,
      'pruning = \'custom\'\npruning-keep-recent = "259200"\npruning-interval = "100"\nmin-retain-blocks = 0\n' +
        '[state-sync]\nsnapshot-interval = 0\n',
    )
    expect((await applyPruningSettings(home.path, SETTINGS)).changes).toEqual([])
    expect(await readdir(path.join(home.path, 'config'))).toEqual(['app.toml'])
  })
})

describe('applyPruningSettings on unusual files', () => {
  it('adds missing keys in their place: top level before the first table, snapshot-interval in [state-sync]', async () => {
    const original = [
      '# app.toml of an older node',
      'minimum-gas-prices = "0.0025uosmo"',
      'pruning = "default"',
      'pruning-keep-recent = "0"',
      'halt-height = 0',
      '',
      '[state-sync]',
      '# snapshots',
      'snapshot-keep-recent = 2',
      '',
      '[api]',
      'enable = true',
      '',
    ].join('\n')
    await writeFile(appToml, original)
    const result = await applyPruningSettings(home.path, SETTINGS)
    expect(result.changes).toEqual([
      { key: 'pruning', old: '"default"', new: '"custom"' },
      { key: 'pruning-keep-recent', old: '"0"', new: '"259200"' },
      { key: 'pruning-interval', old: undefined, new: '"100"' },
      { key: 'min-retain-blocks', old: undefined, new: '0' },
      { key: 'state-sync.snapshot-interval', old: undefined, new: '0' },
    ])
    expect(await readFile(appToml, 'utf8')).toBe(
      [
        '# app.toml of an older node',
        'minimum-gas-prices = "0.0025uosmo"',
        'pruning = "custom"',
        'pruning-keep-recent = "259200"',
        'pruning-interval = "100"',
        'halt-height = 0',
        'min-retain-blocks = 0',
        '',
        '[state-sync]',
        '# snapshots',
        'snapshot-keep-recent = 2',
        'snapshot-interval = 0',
        '',
        '[api]',
        'enable = true',
        '',
      ].join('\n'),
    )
  })

  it('creates [state-sync] at the end when the file has none', async () => {
    await writeFile(appToml, 'pruning = "nothing"\n\n[api]\nenable = true\n')
    await applyPruningSettings(home.path, SETTINGS)
    expect(await readFile(appToml, 'utf8')).toBe(
      [
        'pruning = "custom"',
        'pruning-keep-recent = "259200"',
        'pruning-interval = "100"',
        'min-retain-blocks = 0',
        '',
        '[api]',
        'enable = true',
        '',
        '[state-sync]',
        'snapshot-interval = 0',
        '',
      ].join('\n'),
    )
  })

  it('handles an empty file and a file without a final newline', async () => {
    await writeFile(appToml, '')
    await applyPruningSettings(home.path, SETTINGS)
    expect(parse(await readFile(appToml, 'utf8'))).toEqual({
      pruning: 'custom',
      'pruning-keep-recent': '259200',
      'pruning-interval': '100',
      'min-retain-blocks': 0,
      'state-sync': { 'snapshot-interval': 0 },
    })

    await writeFile(appToml, '[api]\nenable = true')
    await applyPruningSettings(home.path, SETTINGS, { backupDir: path.join(home.path, 'b2') })
    expect(await readFile(appToml, 'utf8')).toBe(
      'pruning = "custom"\npruning-keep-recent = "259200"\npruning-interval = "100"\nmin-retain-blocks = 0\n' +
        '[api]\nenable = true\n\n[state-sync]\nsnapshot-interval = 0',
    )
  })

  it('never touches look-alikes: similar names, comments, other sections, multi-line values', async () => {
    const original = [
      '# pruning = "x"',
      '#pruning-interval = "5"',
      'pruning = "everything" # set by ops, see ticket 42',
      '  pruning-keep-recent   =   "2"',
      'pruning-keep-every = "0"',
      'pruning-interval-extra = "7"',
      'pruning-interval = "10"',
      'min-retain-blocks=5',
      'note = """',
      'pruning = "nothing"',
      '[state-sync]',
      'snapshot-interval = 99',
      '"""',
      'labels = [',
      '  ["state-sync", "x"]',
      ']',
      '',
      '[custom]',
      'min-retain-blocks = 5',
      'pruning = "nothing"',
      '',
      '[state-sync.extra]',
      'snapshot-interval = 7',
      '',
      '[state-sync]',
      'snapshot-interval = 1000  # every 1000 blocks',
      '',
    ].join('\n')
    await writeFile(appToml, original)
    const result = await applyPruningSettings(home.path, SETTINGS)
    expect(result.changes.map((c) => c.key)).toEqual([
      'pruning',
      'pruning-keep-recent',
      'pruning-interval',
      'min-retain-blocks',
      'state-sync.snapshot-interval',
    ])
    const updated = await readFile(appToml, 'utf8')
    const after = updated.split('\n')
    expect(changedLines(original, updated).map((i) => after[i])).toEqual([
      'pruning = "custom" # set by ops, see ticket 42',
      '  pruning-keep-recent   =   "259200"',
      'pruning-interval = "100"',
      'min-retain-blocks=0',
      'snapshot-interval = 0  # every 1000 blocks',
    ])
    const doc = parse(updated) as Record<string, Record<string, unknown>>
    expect(doc['note']).toBe('pruning = "nothing"\n[state-sync]\nsnapshot-interval = 99\n')
    expect(doc['custom']).toEqual({ 'min-retain-blocks': 5, pruning: 'nothing' })
    expect(doc['state-sync']?.['extra']).toEqual({ 'snapshot-interval': 7 })
  })

  it('keeps CRLF line endings and the file mode', async () => {
    await writeFile(
      appToml,
      'pruning = "default"\r\nhalt-height = 0\r\n\r\n[state-sync]\r\nsnapshot-interval = 5\r\n',
    )
    await chmod(appToml, 0o600)
    await applyPruningSettings(home.path, SETTINGS)
    expect(await readFile(appToml, 'utf8')).toBe(
      'pruning = "custom"\r\npruning-keep-recent = "259200"\r\npruning-interval = "100"\r\nhalt-height = 0\r\n' +
        'min-retain-blocks = 0\r\n\r\n[state-sync]\r\nsnapshot-interval = 0\r\n',
    )
    expect((await stat(appToml)).mode & 0o777).toBe(0o600)
  })

  it('rewrites an integer keep-recent to the quoted form the SDK template uses', async () => {
    await writeFile(appToml, 'pruning = "custom"\npruning-keep-recent = 259200\npruning-interval = "100"\n')
    const result = await applyPruningSettings(home.path, SETTINGS)
    expect(result.changes[0]).toEqual({ key: 'pruning-keep-recent', old: '259200', new: '"259200"' })
  })
})

describe('applyPruningSettings refuses and changes nothing', () => {
  it('on a file that is not valid TOML', async () => {
    const text = 'pruning = "default"\npruning = "custom"\n'
    await writeFile(appToml, text)
    const error = await rejection(applyPruningSettings(home.path, SETTINGS))
    expect(error).toBeInstanceOf(NodeConfigError)
    expect(error.message).toContain(appToml)
    expect(error.message).toMatch(/not valid TOML at line 2/)
    expect(await readFile(appToml, 'utf8')).toBe(text)
    expect(await readdir(path.join(home.path, 'config'))).toEqual(['app.toml'])
  })

  it('when [state-sync] is an inline table (an edit there would change more than one key)', async () => {
    const text = 'pruning = "default"\nstate-sync = { snapshot-interval = 100 }\n'
    await writeFile(appToml, text)
    await expect(applyPruningSettings(home.path, SETTINGS)).rejects.toThrow(NodeConfigError)
    expect(await readFile(appToml, 'utf8')).toBe(text)
    expect(await readdir(path.join(home.path, 'config'))).toEqual(['app.toml'])
  })

  it('when a managed key has a multi-line value', async () => {
    const text = 'pruning = """\ndefault"""\n'
    await writeFile(appToml, text)
    await expect(applyPruningSettings(home.path, SETTINGS)).rejects.toThrow(
      /pruning: expected a single-line value/,
    )
    expect(await readFile(appToml, 'utf8')).toBe(text)
  })

  it('on settings the SDK would refuse to start with', async () => {
    await copyFile(path.join(fixtures, 'app-sdk-v050.toml'), appToml)
    const original = await readFile(appToml)
    await expect(applyPruningSettings(home.path, { keepRecent: 1, interval: 100 })).rejects.toThrow(
      InvalidPruningSettingsError,
    )
    await expect(applyPruningSettings(home.path, { keepRecent: 100, interval: 9 })).rejects.toThrow(
      /interval/,
    )
    await expect(applyPruningSettings(home.path, { keepRecent: 100.5, interval: 10 })).rejects.toThrow(
      /keepRecent/,
    )
    expect(await readFile(appToml)).toEqual(original)
  })

  it('when app.toml does not exist', async () => {
    await expect(applyPruningSettings(home.path, SETTINGS)).rejects.toThrow(`${appToml}: file not found`)
  })
})

describe('readPruningSettings', () => {
  it('reads quoted and bare numbers; absent keys are undefined', async () => {
    await writeFile(appToml, 'pruning = "custom"\npruning-keep-recent = 100\n')
    expect(await readPruningSettings(home.path)).toEqual({
      file: appToml,
      pruning: 'custom',
      keepRecent: 100,
      interval: undefined,
      minRetainBlocks: undefined,
      snapshotInterval: undefined,
    })
  })

  it('names the file and key of a bad value', async () => {
    await writeFile(appToml, '[state-sync]\nsnapshot-interval = "often"\n')
    const error = await rejection(readPruningSettings(home.path))
    expect(error).toBeInstanceOf(NodeConfigError)
    expect(error.message).toContain(`${appToml}: state-sync.snapshot-interval:`)
    expect(error.message).toContain('got string "often"')
  })
})
