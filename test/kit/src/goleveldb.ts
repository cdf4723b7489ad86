/**
 * The goleveldb conformance kit: a small Go tool (test/kit/goleveldb/*.go) built against Debian's goleveldb
 * (`golang-go`, `golang-github-syndtr-goleveldb-dev`) that writes CometBFT v0.37 homes with real goleveldb, reads
 * and edits stores exactly as a node opens them (`leveldb.OpenFile(path, nil)`), reports goleveldb's journal
 * recovery errors, and runs CometBFT's own PruneBlocks/PruneStates on goleveldb as a baseline.
 *
 * Why it exists: nodes open their stores with goleveldb, Ghostfleet writes with C++ LevelDB (classic-level), and
 * goleveldb silently skips C++ log batches below the MANIFEST's last sequence on replay. Anything Ghostfleet leaves
 * in a node's databases is only proven when goleveldb reads it back.
 *
 * The binary is built on first use into `os.tmpdir()/ghostfleet-goleveldb-<hash of the Go sources>/`, so
 * concurrent test processes share one build (each builds into a temporary name and renames it into place).
 * Go builds in GOPATH mode (no network): GOPATH is `GHOSTFLEET_GOPATH` when set, otherwise `/usr/share/gocode`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

/** Where the Go sources live: test/kit/goleveldb, next to src/ and dist/. */
const SOURCE_DIR = fileURLToPath(new URL('../goleveldb/', import.meta.url))
const BINARY_NAME = 'gf-goleveldb'
const INSTALL_HINT =
  'install Go and goleveldb: `sudo apt-get install golang-go golang-github-syndtr-goleveldb-dev` ' +
  '(macOS: `brew install go`, `GOPATH=~/go go get github.com/syndtr/goleveldb/leveldb`, and set GHOSTFLEET_GOPATH=~/go)'

/** The GOPATH the tool is built in: `GHOSTFLEET_GOPATH`, or Debian's `/usr/share/gocode`. */
export function goleveldbGopath(): string {
  const override = process.env.GHOSTFLEET_GOPATH
  return override !== undefined && override !== '' ? override : '/usr/share/gocode'
}

/** Throws a clear error naming what to install when Go or goleveldb's sources are missing. */
export function requireGoleveldb(): void {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' })
  if (go.error !== undefined || go.status !== 0) {
    throw new Error(
      `the goleveldb conformance kit needs the \`go\` command, which is not available: ${INSTALL_HINT}`,
    )
  }
  const leveldbDir = path.join(goleveldbGopath(), 'src/github.com/syndtr/goleveldb/leveldb')
  if (!existsSync(leveldbDir)) {
    throw new Error(
      `the goleveldb conformance kit needs goleveldb's sources in ${leveldbDir}: ${INSTALL_HINT}`,
    )
  }
}

/** A failed run of the tool: names the subcommand, the store or home, and goleveldb's message. */
export class GoleveldbToolError extends Error {
  constructor(
    readonly subcommand: string,
    readonly target: string,
    readonly stderr: string,
    detail: string,
  ) {
    super(
      `gf-goleveldb ${subcommand} ${target}: ${detail}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
    )
    this.name = 'GoleveldbToolError'
  }
}

/** Options of {@link GoleveldbTool.generateHome}. */
export interface GenerateHomeOptions {
  home: string
  chainId: string
  blocks: number
  /** @default 2 */
  partsPerBlock?: number
  /** Bytes per part (seeded pseudo-random, incompressible like real txs). @default 3000 */
  partSize?: number
  /** Validators, and commit signatures per block. @default 4 */
  validators?: number
  /** A validator-set change in every N-th block (effective 2 blocks later); 0 = never. @default 1000 */
  validatorChangeEvery?: number
  /** A consensus-params change in every N-th block (effective 1 block later); 0 = never. @default 5000 */
  paramsChangeEvery?: number
  /** Approximate bytes of each `abciResponsesKey:<h>` value. @default 1500 */
  abciResponseSize?: number
  /** @default 1 */
  seed?: number
  /** false = exit without Close, leaving the last writes only in goleveldb's journal (a crashed node). @default true */
  closeCleanly?: boolean
}

const generateResultSchema = z.object({
  blocks: z.number().int().nonnegative(),
  base: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
})
export type GenerateHomeResult = z.infer<typeof generateResultSchema>

const blockStoreSchema = z.object({ base: z.number().int(), height: z.number().int() })
const journalErrorsSchema = z.array(z.string())

const digestSchema = z.object({
  keys: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  prefixes: z.record(z.string(), z.number().int().nonnegative()),
  blockStore: blockStoreSchema.nullable(),
  journalErrors: journalErrorsSchema,
})
/** What goleveldb sees in a store: key count, a hash over all entries in key order, counts per key prefix. */
export type GoleveldbDigest = z.infer<typeof digestSchema>

const getSchema = z.union([
  z.object({ found: z.literal(true), valueHex: z.string().regex(/^([0-9a-f]{2})*$/) }),
  z.object({ found: z.literal(false) }),
])
const okSchema = z.object({ ok: z.literal(true) })
const openSchema = z.object({ journalErrors: journalErrorsSchema })
const dumpSchema = z.object({ keys: z.number().int().nonnegative(), journalErrors: journalErrorsSchema })
const compactSchema = z.object({
  bytesBefore: z.number().int().nonnegative(),
  bytesAfter: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  journalErrors: journalErrorsSchema,
})
export type GoleveldbCompactResult = z.infer<typeof compactSchema>

const pruneSchema = z.object({
  blocksPruned: z.number().int().nonnegative(),
  statesPruned: z.number().int().nonnegative(),
  /** The block store base after pruning (= untilHeight). */
  base: z.number().int().nonnegative(),
  /** PruneBlocks + PruneStates, without opening, compaction and closing. */
  durationMs: z.number().int().nonnegative(),
  blocksMs: z.number().int().nonnegative(),
  statesMs: z.number().int().nonnegative(),
  compactMs: z.number().int().nonnegative().optional(),
  /** The whole run: opening both stores, pruning, compaction (if asked) and closing. */
  wallMs: z.number().int().nonnegative(),
  /** Sum of the file sizes of both store directories. */
  bytesBefore: z.number().int().nonnegative(),
  bytesAfter: z.number().int().nonnegative(),
  journalErrors: journalErrorsSchema,
})
export type GoleveldbPruneResult = z.infer<typeof pruneSchema>

/** Options of {@link GoleveldbTool.prune}. */
export interface GoleveldbPruneOptions {
  /** PruneBlocks(untilHeight): heights [base, untilHeight) are deleted. */
  untilHeight: number
  /** Also PruneStates(base before pruning, untilHeight). */
  states: boolean
  /** Afterwards CompactRange(util.Range{}) on both stores (reported as compactMs). @default false */
  compact?: boolean
}

/** The built tool; every method runs one subcommand in a child process. */
export interface GoleveldbTool {
  binary: string
  /**
   * Writes `<home>/data/blockstore.db` and `<home>/data/state.db` with goleveldb as CometBFT v0.37 does (SaveBlock
   * batches + blockStore state, state store saves), plus `<home>/config/config.toml` (db_backend goleveldb) if missing.
   */
  generateHome(o: GenerateHomeOptions): Promise<GenerateHomeResult>
  /** Opens the store as a node does, reads everything, closes. */
  digest(db: string): Promise<GoleveldbDigest>
  /**
   * One `hex(key)\thex(value)` line per key, in key order (`keysOnly`: `hex(key)` lines). `prefix` limits it to
   * the keys starting with that ASCII prefix.
   */
  dump(
    db: string,
    outFile: string,
    options?: { prefix?: string; keysOnly?: boolean },
  ): Promise<{ keys: number }>
  get(db: string, key: string | Buffer): Promise<Buffer | undefined>
  /** A synced put (a node's SetSync). */
  put(db: string, key: string | Buffer, value: Buffer): Promise<void>
  /** A synced delete. */
  del(db: string, key: string | Buffer): Promise<void>
  /** Open + close exactly as a node does; the journal errors goleveldb logged while recovering. */
  open(db: string): Promise<{ journalErrors: string[] }>
  /** CometBFT v0.37 PruneBlocks then (states) PruneStates on goleveldb. */
  prune(home: string, o: GoleveldbPruneOptions): Promise<GoleveldbPruneResult>
  /** CompactRange(util.Range{}) of the whole store. */
  compact(db: string): Promise<GoleveldbCompactResult>
}

const positiveInt = (max: number) => z.number().int().min(1).max(max)
const generateOptionsSchema = z.object({
  home: z.string().min(1),
  chainId: z.string().min(1).max(50),
  blocks: positiveInt(100_000_000),
  partsPerBlock: positiveInt(1000).optional(),
  partSize: positiveInt(1 << 20).optional(),
  validators: positiveInt(1000).optional(),
  validatorChangeEvery: z.number().int().min(0).optional(),
  paramsChangeEvery: z.number().int().min(0).optional(),
  abciResponseSize: z
    .number()
    .int()
    .min(0)
    .max(10 << 20)
    .optional(),
  seed: z.number().int().optional(),
  closeCleanly: z.boolean().optional(),
})
const pruneOptionsSchema = z.object({
  untilHeight: positiveInt(Number.MAX_SAFE_INTEGER),
  states: z.boolean(),
  compact: z.boolean().optional(),
})

let building: Promise<GoleveldbTool> | null = null

/** Builds the tool once per process (cached on disk by the hash of its sources) and returns it. */
export function goleveldbTool(): Promise<GoleveldbTool> {
  if (building === null) {
    building = buildGoleveldbBinary().then(makeTool)
    building.catch(() => {
      building = null
    })
  }
  return building
}

/** The environment `go build` runs in: GOPATH mode, no network, a GOCACHE it can write. */
function goBuildEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOPATH: goleveldbGopath(),
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOPROXY: 'off',
  }
  if (env.GOCACHE === undefined || env.GOCACHE === '') {
    let homeWritable = false
    try {
      if (env.HOME !== undefined && env.HOME !== '') {
        accessSync(env.HOME, constants.W_OK)
        homeWritable = true
      }
    } catch {
      homeWritable = false
    }
    if (!homeWritable) env.GOCACHE = path.join(os.tmpdir(), 'ghostfleet-gocache')
  }
  return env
}

function sourceHash(): string {
  const files = readdirSync(SOURCE_DIR)
    .filter((f) => f.endsWith('.go'))
    .sort()
  if (files.length === 0) throw new Error(`no Go sources in ${SOURCE_DIR}`)
  const h = createHash('sha256')
  h.update(`gopath=${goleveldbGopath()}\n`)
  for (const f of files) {
    h.update(`${f}\n`)
    h.update(readFileSync(path.join(SOURCE_DIR, f)))
  }
  return h.digest('hex').slice(0, 16)
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile()
  } catch {
    return false
  }
}

/**
 * Builds the tool into `<cacheRoot>/ghostfleet-goleveldb-<hash of the Go sources>/gf-goleveldb` unless it is
 * there already, and returns its path. Safe when several processes build at once: each builds into its own
 * temporary file and rename() makes the finished binary appear atomically (the last one wins; they are identical).
 */
export async function buildGoleveldbBinary(cacheRoot: string = os.tmpdir()): Promise<string> {
  requireGoleveldb()
  const dir = path.join(cacheRoot, `ghostfleet-goleveldb-${sourceHash()}`)
  const binary = path.join(dir, BINARY_NAME)
  if (await isFile(binary)) return binary
  await mkdir(dir, { recursive: true })
  const tmp = path.join(dir, `${BINARY_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const result = await run('go', ['build', '-o', tmp, '.'], { cwd: SOURCE_DIR, env: goBuildEnv() })
  if (result.code !== 0) {
    await rm(tmp, { force: true })
    throw new GoleveldbToolError('build', SOURCE_DIR, result.stderr, `go build exited with ${result.code}`)
  }
  await rename(tmp, binary)
  return binary
}

interface RunResult {
  code: number | string
  stdout: string
  stderr: string
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Buffer } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (c: Buffer) => out.push(c))
    child.stderr?.on('data', (c: Buffer) => err.push(c))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      resolve({
        code: code ?? signal ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      })
    })
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

function keyHex(key: string | Buffer): string {
  const b = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
  if (b.length === 0) throw new Error('gf-goleveldb: empty key')
  return b.toString('hex')
}

function makeTool(binary: string): GoleveldbTool {
  async function call<T>(
    schema: z.ZodType<T>,
    subcommand: string,
    target: string,
    args: string[],
    input?: Buffer,
  ): Promise<T> {
    const result = await run(binary, [subcommand, ...args], input === undefined ? {} : { input })
    if (result.code !== 0) {
      throw new GoleveldbToolError(subcommand, target, result.stderr, `exited with ${result.code}`)
    }
    let json: unknown
    try {
      json = JSON.parse(result.stdout)
    } catch {
      throw new GoleveldbToolError(
        subcommand,
        target,
        result.stderr,
        `printed no JSON: ${result.stdout.slice(0, 200)}`,
      )
    }
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      throw new GoleveldbToolError(
        subcommand,
        target,
        result.stderr,
        `unexpected output: ${parsed.error.message}`,
      )
    }
    return parsed.data
  }

  return {
    binary,
    async generateHome(options) {
      const o = generateOptionsSchema.parse(options)
      const args = ['--home', o.home, '--chain-id', o.chainId, '--blocks', String(o.blocks)]
      if (o.partsPerBlock !== undefined) args.push('--parts', String(o.partsPerBlock))
      if (o.partSize !== undefined) args.push('--part-size', String(o.partSize))
      if (o.validators !== undefined) args.push('--validators', String(o.validators))
      if (o.validatorChangeEvery !== undefined)
        args.push('--validator-change-every', String(o.validatorChangeEvery))
      if (o.paramsChangeEvery !== undefined) args.push('--params-change-every', String(o.paramsChangeEvery))
      if (o.abciResponseSize !== undefined) args.push('--abci-response-size', String(o.abciResponseSize))
      if (o.seed !== undefined) args.push('--seed', String(o.seed))
      if (o.closeCleanly === false) args.push('--no-close')
      return call(generateResultSchema, 'gen', o.home, args)
    },
    digest: (db) => call(digestSchema, 'digest', db, ['--db', db]),
    async dump(db, outFile, options = {}) {
      const args = ['--db', db, '--out', outFile]
      if (options.prefix !== undefined && options.prefix !== '') args.push('--prefix', options.prefix)
      if (options.keysOnly === true) args.push('--keys-only')
      const r = await call(dumpSchema, 'dump', db, args)
      return { keys: r.keys }
    },
    async get(db, key) {
      const r = await call(getSchema, 'get', db, ['--db', db, '--key-hex', keyHex(key)])
      return r.found ? Buffer.from(r.valueHex, 'hex') : undefined
    },
    async put(db, key, value) {
      await call(okSchema, 'put', db, ['--db', db, '--key-hex', keyHex(key)], value)
    },
    async del(db, key) {
      await call(okSchema, 'del', db, ['--db', db, '--key-hex', keyHex(key)])
    },
    open: (db) => call(openSchema, 'open', db, ['--db', db]),
    prune(home, options) {
      const o = pruneOptionsSchema.parse(options)
      const args = ['--home', home, '--until-height', String(o.untilHeight)]
      if (o.states) args.push('--states')
      if (o.compact === true) args.push('--compact')
      return call(pruneSchema, 'prune', home, args)
    },
    compact: (db) => call(compactSchema, 'compact', db, ['--db', db]),
  }
}
