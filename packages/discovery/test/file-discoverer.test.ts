import { rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DiscoveryFileError, FileDiscoverer, InvalidOptionsError } from '../src/index.js'

describe('FileDiscoverer', () => {
  let dir: TempDir
  let counter = 0

  /** Writes the file the way operators should: a temporary file renamed over the target. */
  async function write(name: string, content: unknown): Promise<string> {
    const file = path.join(dir.path, name)
    const temporary = `${file}.${counter++}.tmp`
    await writeFile(temporary, typeof content === 'string' ? content : JSON.stringify(content))
    await rename(temporary, file)
    return file
  }

  async function failure(content: unknown): Promise<DiscoveryFileError> {
    const file = await write(`bad-${counter}.json`, content)
    const error = await new FileDiscoverer(file).discover().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DiscoveryFileError)
    expect((error as DiscoveryFileError).path).toBe(file)
    return error as DiscoveryFileError
  }

  beforeAll(async () => {
    dir = await tempDir('ghostfleet-file-sd-')
  })
  afterAll(async () => {
    await dir.remove()
  })

  it('reads Prometheus file_sd JSON: targets, known labels, every label in meta', async () => {
    const file = await write('sidecars.json', [
      {
        targets: ['10.0.0.5:26670'],
        labels: { sidecar_id: 'osmosis-a', chain_id: 'osmosis-1', pool_id: '1', mode: 'ghost', dc: 'fra1' },
      },
      { targets: ['10.0.0.6:26670', '[::1]:26670'], labels: { chain_id: 'cosmoshub-4' } },
      { targets: ['sidecar-7.internal:26670'] },
      { targets: [] },
    ])
    expect(await new FileDiscoverer(file).discover()).toEqual([
      {
        id: 'osmosis-a',
        address: '10.0.0.5:26670',
        chainId: 'osmosis-1',
        poolId: 1,
        mode: 'ghost',
        healthy: true,
        meta: { sidecar_id: 'osmosis-a', chain_id: 'osmosis-1', pool_id: '1', mode: 'ghost', dc: 'fra1' },
      },
      {
        id: '10.0.0.6:26670',
        address: '10.0.0.6:26670',
        chainId: 'cosmoshub-4',
        healthy: true,
        meta: { chain_id: 'cosmoshub-4' },
      },
      {
        id: '[::1]:26670',
        address: '[::1]:26670',
        chainId: 'cosmoshub-4',
        healthy: true,
        meta: { chain_id: 'cosmoshub-4' },
      },
      { id: 'sidecar-7.internal:26670', address: 'sidecar-7.internal:26670', healthy: true, meta: {} },
    ])
  })

  it('re-reads the file on every call: edits apply, removed targets disappear', async () => {
    const file = await write('live.json', [{ targets: ['10.0.0.5:26670', '10.0.0.6:26670'] }])
    const discoverer = new FileDiscoverer(file)
    expect(await discoverer.discover()).toHaveLength(2)
    await write('live.json', [{ targets: ['10.0.0.6:26670'] }])
    expect((await discoverer.discover()).map((target) => target.id)).toEqual(['10.0.0.6:26670'])
    await write('live.json', [])
    expect(await discoverer.discover()).toEqual([])
  })

  it('refuses the newline-separated list solana-cluster reads, saying a JSON array is expected', async () => {
    const error = await failure('10.0.0.5:26670\n10.0.0.6:26670\n')
    expect(error.message).toMatch(/: not valid JSON \(a file_sd file is a JSON array of \{"targets"/)
  })

  it('names the file and every bad entry, and returns nothing from a half-valid file', async () => {
    const error = await failure([
      { targets: ['10.0.0.5:26670'] },
      { targets: ['10.0.0.6'], labels: { pool_id: 'one' } },
      { targets: ['10.0.0.7:26670'], label: { chain_id: 'x' } },
      { targets: ['10.0.0.8:26670', '10.0.0.9:26670'], labels: { sidecar_id: 'both' } },
      { targets: ['10.0.0.5:26670'] },
      { targets: ['10.0.1.1:1'], labels: { pool_id: 2, 'bad-name': 'x' } },
      'not a group',
    ])
    const lines = error.message.split('\n')
    expect(lines.every((line) => line.startsWith(`${error.path}: `))).toBe(true)
    expect(error.problems).toEqual(
      expect.arrayContaining([
        '[1].targets[0]: expected "host:port" (port 1–65535; IPv6 in brackets), got "10.0.0.6"',
        '[1].labels.pool_id: expected a pool id such as "1", got "one"',
        '[2]: unknown key "label"',
        '[3].labels.sidecar_id: sidecar_id names one target but the group has 2: give each target its own group',
        '[4].targets[0]: target id "10.0.0.5:26670" is also [0].targets[0]',
        '[5].labels.pool_id: expected a string label value (quote numbers: "1"), got 2',
        '[5].labels["bad-name"]: label name "bad-name" must match [a-zA-Z_][a-zA-Z0-9_]*',
        '[6]: expected an object {"targets": [...], "labels": {...}}, got "not a group"',
      ]),
    )
  })

  it('says what is wrong with a file that is not an array, missing, or a directory', async () => {
    expect((await failure({ targets: ['10.0.0.5:26670'] })).problems).toEqual([
      'expected a JSON array of target groups (Prometheus file_sd format), got a table {"targets":["10.0.0.5:26670"]}',
    ])
    const missing = path.join(dir.path, 'nope.json')
    await expect(new FileDiscoverer(missing).discover()).rejects.toThrow(
      `${missing}: cannot read the file: ENOENT: no such file or directory`,
    )
    await expect(new FileDiscoverer(dir.path).discover()).rejects.toThrow(/cannot read the file: EISDIR/)
  })

  it('honours an aborted signal', async () => {
    const file = await write('abort.json', [])
    await expect(new FileDiscoverer(file).discover(AbortSignal.abort(new Error('stop')))).rejects.toThrow(
      'stop',
    )
  })

  it('refuses an unusable path at construction', () => {
    expect(() => new FileDiscoverer('')).toThrow(InvalidOptionsError)
    expect(() => new FileDiscoverer('a\0b')).toThrow('path: expected a path without NUL characters')
  })
})
