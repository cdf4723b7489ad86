import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { tempDir } from '@ghostfleet/testkit'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { NodeConfigError, readGenesisChainId, topLevelChainId } from '../../src/index.js'

const dirs: Array<{ remove(): Promise<void> }> = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await dir.remove()
})

async function genesisFile(text: string): Promise<string> {
  const dir = await tempDir('genesis-')
  dirs.push(dir)
  const file = path.join(dir.path, 'genesis.json')
  await writeFile(file, text)
  return file
}

describe('readGenesisChainId', () => {
  it('reads a CometBFT genesis (chain_id after genesis_time)', async () => {
    const file = await genesisFile(
      JSON.stringify({
        genesis_time: '2021-06-18T17:00:00Z',
        chain_id: 'osmosis-1',
        initial_height: '1',
        app_state: {},
      }),
    )
    expect(await readGenesisChainId(file)).toBe('osmosis-1')
  })

  it('takes the top-level key, never one inside app_state that comes first', async () => {
    const text = `{"app_state":{"ibc":{"chain_id":"evil-1","x":["chain_id"]}},"chain_id":"cosmoshub-4"}`
    expect(await readGenesisChainId(await genesisFile(text))).toBe('cosmoshub-4')
  })

  it('reads a large genesis whose app_state follows the chain id without parsing it whole', async () => {
    const big = `{"genesis_time":"2021-06-18T17:00:00Z","chain_id":"osmosis-1","app_state":{"blob":"${'x'.repeat(5_000_000)}"}}`
    expect(await readGenesisChainId(await genesisFile(big))).toBe('osmosis-1')
  })

  it('refuses a missing file or one without a chain id, naming the file', async () => {
    await expect(readGenesisChainId('/nonexistent/genesis.json')).rejects.toThrow(NodeConfigError)
    const file = await genesisFile('{"genesis_time":"x"}')
    await expect(readGenesisChainId(file)).rejects.toThrow(/genesis\.json.*no top-level "chain_id"/)
  })

  it('agrees with JSON.parse on any object with a top-level chain_id', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (other, chainId) => {
          const doc = { ...other, chain_id: chainId }
          expect(topLevelChainId(JSON.stringify(doc))).toBe(chainId)
        },
      ),
      { numRuns: 2_000 },
    )
  })
})
