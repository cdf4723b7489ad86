import { mkdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { parse, TomlDate, type TomlTable } from 'smol-toml'
import { z } from 'zod'
import { createFileExclusive, errorCode, writeFileAtomic } from './atomic-file.js'
import { InvalidPruningSettingsError, NodeConfigError } from './errors.js'
import { configErrorFromZod, parseToml, readTomlFile } from './toml-file.js'
import {
  classifyTomlLines,
  joinTomlLines,
  splitTomlLines,
  type TomlLine,
  type TomlLineKind,
} from './toml-lines.js'

/*
 * The pruning settings of the Cosmos SDK's app.toml: what supervysor set, edited without supervysor's flaws
 * (`strings.Contains` line matching, no backup).
 *
 * The file is edited as text, line by line, and only the value of a matched key changes: comments, ordering,
 * spacing, quoting style of other keys and other sections stay byte for byte. A key matches only as a real
 * `key = value` statement of the right table (so `pruning-keep-every`, `# pruning = "x"` or a
 * `min-retain-blocks` in another section are never touched). Before writing, the edited text is parsed again
 * and must equal the original document with exactly the five settings changed; otherwise nothing is written.
 */

/** The pruning settings Ghostfleet manages. */
export interface PruningSettingsInput {
  /** `pruning-keep-recent`: application states to keep (SDK minimum 2). */
  keepRecent: number
  /** `pruning-interval`: prune every this many blocks (SDK minimum 10). */
  interval: number
}

/** Options for {@link applyPruningSettings}. */
export interface ApplyPruningOptions {
  /**
   * Directory for the backup of the original app.toml (`app.toml.ghostfleet-backup`).
   * @default the directory of app.toml
   */
  backupDir?: string
}

/** One key that {@link applyPruningSettings} changed. */
export interface PruningChange {
  /** Dotted key, e.g. `pruning-keep-recent` or `state-sync.snapshot-interval`. */
  key: string
  /** The value as it was written (TOML text), or undefined when the key was missing and has been added. */
  old: string | undefined
  /** The value as now written (TOML text). */
  new: string
}

/** What {@link applyPruningSettings} did. */
export interface ApplyPruningResult {
  /** Absolute path of app.toml. */
  file: string
  /** The keys that changed; empty when the file already had the settings (then nothing was written). */
  changes: PruningChange[]
  /**
   * The backup of the original file when changes were made (created now, or kept from an earlier run: a
   * backup is never overwritten, so it always holds the file as it was before Ghostfleet first touched it).
   */
  backupFile: string | undefined
}

/** The pruning-related settings currently in app.toml; undefined = not set (the SDK default applies). */
export interface PruningSettings {
  /** Absolute path of app.toml. */
  file: string
  /** `pruning`: `default`, `nothing`, `everything` or `custom`. */
  pruning: string | undefined
  /** `pruning-keep-recent`. */
  keepRecent: number | undefined
  /** `pruning-interval`. */
  interval: number | undefined
  /** `min-retain-blocks`. */
  minRetainBlocks: number | undefined
  /** `[state-sync] snapshot-interval`. */
  snapshotInterval: number | undefined
}

/** Name of the backup file (in app.toml's directory or in `backupDir`). */
export const APP_TOML_BACKUP_NAME = 'app.toml.ghostfleet-backup'

/** Path of `config/app.toml` in a node home. */
export function appTomlPath(home: string): string {
  return path.join(path.resolve(home), 'config', 'app.toml')
}

interface Target {
  /** Full key path from the document root. */
  path: string[]
  /** TOML text to write. */
  text: string
  /** The parsed value that counts as "already set". */
  value: string | number
  /** When missing, insert after the first of these existing top-level keys (else after the last statement). */
  after: string[]
}

function targetsFor(settings: PruningSettingsInput): Target[] {
  // Quoted strings for the pruning-* keys, bare integers for the others: exactly as the SDK template writes
  // them (server/config/toml.go), so a file we edit looks like one the node generated.
  // A missing pruning-* key joins its siblings, as in the template; min-retain-blocks goes after the last
  // top-level key, which is where the template has it (after halt-height/halt-time).
  return [
    { path: ['pruning'], text: '"custom"', value: 'custom', after: [] },
    {
      path: ['pruning-keep-recent'],
      text: `"${settings.keepRecent}"`,
      value: String(settings.keepRecent),
      after: ['pruning'],
    },
    {
      path: ['pruning-interval'],
      text: `"${settings.interval}"`,
      value: String(settings.interval),
      after: ['pruning-keep-recent', 'pruning'],
    },
    { path: ['min-retain-blocks'], text: '0', value: 0, after: [] },
    { path: ['state-sync', 'snapshot-interval'], text: '0', value: 0, after: [] },
  ]
}

function validateSettings(settings: PruningSettingsInput): void {
  // The SDK refuses to start with custom pruning outside these bounds (store/pruning/types/options.go Validate).
  const { keepRecent, interval } = settings
  if (!Number.isSafeInteger(keepRecent) || keepRecent < 2) {
    throw new InvalidPruningSettingsError(
      `keepRecent must be an integer >= 2 (SDK minimum), got ${keepRecent}`,
    )
  }
  if (!Number.isSafeInteger(interval) || interval < 10) {
    throw new InvalidPruningSettingsError(`interval must be an integer >= 10 (SDK minimum), got ${interval}`)
  }
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i])
}

/** Parses a single TOML value written as text. */
function parseValueText(text: string): unknown {
  return parse(`v = ${text}`, { integersAsBigInt: 'asNeeded' })['v']
}

/** A comparable, JSON-safe rendering of a parsed TOML document (dates, bigints, key order normalised). */
function canonical(value: unknown): unknown {
  if (value instanceof TomlDate) return { $date: value.toISOString() }
  if (typeof value === 'bigint') return { $int: value.toString() }
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]))
  }
  return value
}

function setPath(table: TomlTable, keyPath: readonly string[], value: string | number): void {
  let node: Record<string, unknown> = table
  for (const part of keyPath.slice(0, -1)) {
    const next = node[part]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  node[keyPath[keyPath.length - 1] as string] = value
}

type KeyKind = Extract<TomlLineKind, { kind: 'key' }>

interface Edit {
  changes: PruningChange[]
  text: string
}

/** Computes the edited text; pure, so it can be tested and verified before anything touches the disk. */
function editPruningText(file: string, original: string, targets: readonly Target[]): Edit {
  const lines: TomlLine[] = splitTomlLines(original)
  const kinds = classifyTomlLines(lines)
  const eol = lines.find((line) => line.eol !== '')?.eol ?? '\n'
  const endsWithoutNewline = lines.length > 0 && (lines[lines.length - 1] as TomlLine).eol === ''
  const changes: PruningChange[] = []

  const statementOf = (target: Target): { index: number; kind: KeyKind } | undefined => {
    for (let index = 0; index < kinds.length; index++) {
      const kind = kinds[index] as TomlLineKind
      if (
        kind.kind === 'key' &&
        kind.table !== undefined &&
        samePath([...kind.table, ...kind.key], target.path)
      ) {
        return { index, kind }
      }
    }
    return undefined
  }

  // 1. Keys that exist: replace the value text only, keeping indentation, spacing and trailing comments.
  const missing: Target[] = []
  for (const target of targets) {
    const found = statementOf(target)
    if (found === undefined) {
      missing.push(target)
      continue
    }
    const key = target.path.join('.')
    const line = lines[found.index] as TomlLine
    if (found.kind.valueEnd === undefined) {
      throw new NodeConfigError(file, key, 'expected a single-line value; edit this key by hand')
    }
    const oldText = line.text.slice(found.kind.valueStart, found.kind.valueEnd)
    const current = parseValueText(oldText)
    if (current === target.value) continue
    line.text = line.text.slice(0, found.kind.valueStart) + target.text + line.text.slice(found.kind.valueEnd)
    changes.push({ key, old: oldText, new: target.text })
  }

  // 2. Keys that are missing: insert them where they belong. Insertions are collected per anchor line and
  // applied at the end, so line indexes stay valid while planning.
  const insertAfter = new Map<number, string[]>()
  const appended: string[] = []
  const queue = (after: number, text: string) => {
    const list = insertAfter.get(after) ?? []
    list.push(text)
    insertAfter.set(after, list)
  }
  const firstHeader = kinds.findIndex((kind) => kind.kind === 'header')
  const rootEnd = firstHeader === -1 ? lines.length : firstHeader

  for (const target of missing) {
    const statement = `${target.path[target.path.length - 1]} = ${target.text}`
    changes.push({ key: target.path.join('.'), old: undefined, new: target.text })
    if (target.path.length === 1) {
      // Top-level keys must come before the first [table]: after a sibling (pruning-interval next to
      // pruning-keep-recent), else after the last top-level statement, else at the top of the file.
      let anchor: number | undefined
      for (const sibling of target.after) {
        const found = statementOf({ ...target, path: [sibling] })
        if (found !== undefined && anchor === undefined) anchor = found.kind.endLine
      }
      if (anchor === undefined) {
        for (let i = rootEnd - 1; i >= 0 && anchor === undefined; i--) {
          const kind = kinds[i] as TomlLineKind
          if (kind.kind === 'key') anchor = kind.endLine
        }
      }
      queue(anchor ?? -1, statement)
      continue
    }
    // A key of a table: after the table's last statement, or right after its header; a missing table is
    // created at the end of the file.
    const tablePath = target.path.slice(0, -1)
    const header = kinds.findIndex(
      (kind) => kind.kind === 'header' && kind.table !== undefined && samePath(kind.table, tablePath),
    )
    if (header === -1) {
      appended.push('', `[${tablePath.join('.')}]`, statement)
      continue
    }
    let anchor = header
    for (let i = header + 1; i < kinds.length; i++) {
      const kind = kinds[i] as TomlLineKind
      if (kind.kind === 'header') break
      if (kind.kind === 'key') anchor = kind.endLine
    }
    queue(anchor, statement)
  }

  if (changes.length === 0) return { changes, text: original }
  const order = targets.map((target) => target.path.join('.'))
  changes.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key))

  const out: TomlLine[] = []
  const emit = (after: number) => {
    for (const text of insertAfter.get(after) ?? []) out.push({ text, eol })
  }
  emit(-1)
  lines.forEach((line, index) => {
    const inserts = insertAfter.get(index)
    // A last line without a newline gets one when something follows it.
    out.push(inserts !== undefined && line.eol === '' ? { text: line.text, eol } : line)
    emit(index)
  })
  if (appended.length > 0) {
    const last = out[out.length - 1]
    if (last !== undefined && last.eol === '') last.eol = eol
    // No blank separator when the file already ends with a blank line.
    const toAppend = last === undefined || last.text.trim() === '' ? appended.slice(1) : appended
    for (const text of toAppend) out.push({ text, eol })
  }
  // Keep a file that had no final newline without one.
  const lastOut = out[out.length - 1]
  if (endsWithoutNewline && lastOut !== undefined) lastOut.eol = ''
  return { changes, text: joinTomlLines(out) }
}

async function readAppToml(file: string): Promise<{ text: string; mode: number }> {
  let bytes: Buffer
  let mode: number
  try {
    bytes = await readFile(file)
    mode = (await stat(file)).mode & 0o7777
  } catch (error) {
    const code = errorCode(error)
    const reason = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(error)})`
    throw new NodeConfigError(file, undefined, reason, { cause: error })
  }
  const text = bytes.toString('utf8')
  // Editing decoded text must give back the same bytes for every untouched line.
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new NodeConfigError(
      file,
      undefined,
      'not valid UTF-8 (TOML files must be UTF-8); nothing was changed',
    )
  }
  return { text, mode }
}

/**
 * Sets Ghostfleet's pruning settings in `<home>/config/app.toml`: `pruning = "custom"`,
 * `pruning-keep-recent = "<keepRecent>"`, `pruning-interval = "<interval>"`, `min-retain-blocks = 0` and
 * `[state-sync] snapshot-interval = 0`. Only those values change; missing keys are added in their place
 * (top-level keys before the first table, `snapshot-interval` in `[state-sync]`, which is created if absent).
 * Before the first change the original file is backed up (never overwritten later); the new file is written
 * atomically. A second run with the same settings changes and writes nothing.
 *
 * @throws {@link InvalidPruningSettingsError} for values the SDK would refuse (keepRecent < 2, interval < 10).
 * @throws {@link NodeConfigError} when app.toml is missing, not valid TOML/UTF-8, or cannot be edited safely;
 * nothing is changed then.
 */
export async function applyPruningSettings(
  home: string,
  settings: PruningSettingsInput,
  options: ApplyPruningOptions = {},
): Promise<ApplyPruningResult> {
  validateSettings(settings)
  const file = appTomlPath(home)
  const { text: original, mode } = await readAppToml(file)
  const before = parseToml(file, original)
  const targets = targetsFor(settings)
  const edit = editPruningText(file, original, targets)
  if (edit.changes.length === 0) return { file, changes: [], backupFile: undefined }

  let after: TomlTable
  try {
    after = parseToml(file, edit.text)
  } catch (error) {
    throw new NodeConfigError(
      file,
      undefined,
      'the edited file would not be valid TOML; nothing was changed',
      {
        cause: error,
      },
    )
  }
  for (const target of targets) setPath(before, target.path, target.value)
  if (JSON.stringify(canonical(before)) !== JSON.stringify(canonical(after))) {
    throw new NodeConfigError(
      file,
      undefined,
      'the edit would change more than the pruning settings (unusual layout, e.g. state-sync as an inline ' +
        'table); set them by hand; nothing was changed',
    )
  }

  const backupFile = path.join(path.resolve(options.backupDir ?? path.dirname(file)), APP_TOML_BACKUP_NAME)
  await mkdir(path.dirname(backupFile), { recursive: true })
  await createFileExclusive(backupFile, original, { mode })
  await writeFileAtomic(file, edit.text, { mode })
  return { file, changes: edit.changes, backupFile }
}

const DECIMAL = /^\d+$/

/** An unsigned integer the SDK reads with viper's cast: a TOML integer or a decimal string. */
const uintSetting = z
  .union(
    [z.int().min(0), z.string().regex(DECIMAL), z.bigint().min(0n)],
    'expected a non-negative integer (or a decimal string)',
  )
  .refine((value) => Number.isSafeInteger(Number(value)), 'exceeds 2^53-1')
  .transform((value) => Number(value))

const pruningSettingsSchema = z.object({
  pruning: z.string('expected a string').optional(),
  'pruning-keep-recent': uintSetting.optional(),
  'pruning-interval': uintSetting.optional(),
  'min-retain-blocks': uintSetting.optional(),
  'state-sync': z.object({ 'snapshot-interval': uintSetting.optional() }, 'expected a table').optional(),
})

/**
 * Reads the pruning-related settings of `<home>/config/app.toml`.
 *
 * @throws {@link NodeConfigError} naming the file and key when the file is missing, not TOML, or a setting has
 * the wrong type.
 */
export async function readPruningSettings(home: string): Promise<PruningSettings> {
  const file = appTomlPath(home)
  const { table } = await readTomlFile(file)
  const parsed = pruningSettingsSchema.safeParse(table)
  if (!parsed.success) throw configErrorFromZod(file, parsed.error, table)
  const data = parsed.data
  return {
    file,
    pruning: data.pruning,
    keepRecent: data['pruning-keep-recent'],
    interval: data['pruning-interval'],
    minRetainBlocks: data['min-retain-blocks'],
    snapshotInterval: data['state-sync']?.['snapshot-interval'],
  }
}
