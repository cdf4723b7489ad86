import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import fc from 'fast-check'
import { parse, stringify } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyPruningSettings, NodeConfigError } from '../../src/node/index.js'

/*
 * Random app.toml documents (rendered by a TOML library, then decorated with comments and odd spacing) must
 * come out as the same document with exactly the five settings changed, and a second run must change nothing.
 */

const MANAGED_ROOT = ['pruning', 'pruning-keep-recent', 'pruning-interval', 'min-retain-blocks']
const LOOKALIKES = [
  'pruning-keep-every',
  'pruning-intervals',
  'min-retain-blocks-x',
  'snapshot-interval',
  'x',
]

const tricky = fc.constantFrom(
  'pruning = "nothing"',
  '[state-sync]',
  'snapshot-interval = 5',
  '# not a comment',
  'a\nb',
  "it's",
  '',
)
const scalar = fc.oneof(tricky, fc.integer({ min: 0, max: 1_000_000 }), fc.boolean())
const value = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 3 }),
  fc.array(fc.array(scalar, { maxLength: 2 })),
)

const keyName = fc.constantFrom(...MANAGED_ROOT, ...LOOKALIKES)
const table = fc.dictionary(keyName, value, { maxKeys: 4 })

const documentArb = fc
  .record({
    root: fc.dictionary(keyName, value, { maxKeys: 6 }),
    stateSync: fc.option(fc.dictionary(fc.constantFrom('snapshot-interval', 'snapshot-keep-recent'), value)),
    others: fc.dictionary(fc.constantFrom('api', 'grpc', 'custom', 'telemetry'), table, { maxKeys: 3 }),
  })
  .map(({ root, stateSync, others }) => {
    const doc: Record<string, unknown> = { ...root, ...others }
    if (stateSync !== null) doc['state-sync'] = stateSync
    return doc
  })

/** Comments before random lines and padding around `=`: layouts the editor has to preserve. */
function decorate(text: string, seed: number): string {
  return text
    .split('\n')
    .map((line, i) => {
      const roll = (seed + i * 7) % 5
      if (roll === 0 && line !== '') return `# pruning = "commented"\n${line}`
      if (roll === 1) return line.replace(' = ', '   =  ')
      // Spread arrays over several lines (none of the generated strings contains ", ").
      // Lines inside such an array may start with "[" and must not be taken for table headers.
      if (roll === 2 && / = \[/.test(line)) return line.replaceAll(', ', ',\n  ')
      return line
    })
    .join('\n')
}

let dir: TempDir

beforeAll(async () => {
  dir = await tempDir('ghostfleet-app-toml-prop-')
})

afterAll(async () => {
  await dir.remove()
})

describe('applyPruningSettings on random documents', () => {
  it('changes exactly the five settings and is idempotent', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        documentArb,
        fc.nat(),
        fc.integer({ min: 2, max: 10_000_000 }),
        fc.integer({ min: 10, max: 10_000 }),
        async (doc, seed, keepRecent, interval) => {
          const home = path.join(dir.path, `home-${run++}`)
          await mkdir(path.join(home, 'config'), { recursive: true })
          const file = path.join(home, 'config', 'app.toml')
          const text = decorate(stringify(doc), seed)
          await writeFile(file, text)
          const before = parse(text)

          try {
            await applyPruningSettings(home, { keepRecent, interval })
          } catch (error) {
            // A managed key spread over several lines is refused on purpose; the file must be untouched.
            if (!(error instanceof NodeConfigError) || !/single-line value/.test(error.message)) throw error
            expect(await readFile(file, 'utf8')).toBe(text)
            return
          }

          const after = parse(await readFile(file, 'utf8'))
          const expected = {
            ...before,
            pruning: 'custom',
            'pruning-keep-recent': String(keepRecent),
            'pruning-interval': String(interval),
            'min-retain-blocks': 0,
            'state-sync': { ...((before['state-sync'] as object | undefined) ?? {}), 'snapshot-interval': 0 },
          }
          expect(JSON.parse(JSON.stringify(after))).toEqual(JSON.parse(JSON.stringify(expected)))
          expect((await applyPruningSettings(home, { keepRecent, interval })).changes).toEqual([])
        },
      ),
      { numRuns: 150 },
    )
  })
})
