import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '@ghostfleet/cometbft'
import { z } from 'zod'

/** File name of the persisted state inside the sidecar's config directory. */
export const STATE_FILE = 'state.json'

const lastPruneSchema = z.strictObject({
  toHeight: z.number().int().positive(),
  fromBase: z.number().int().nonnegative(),
  blocks: z.number().int().nonnegative(),
  bytesBefore: z.number().int().nonnegative(),
  bytesAfter: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  at: z.number().int().nonnegative(),
})

/**
 * What the sidecar must remember across its own restarts (supervysor kept all of this in memory, so a restart
 * always came back in normal mode and triggered a sync burst):
 * - the mode the node is in, so a restarted sidecar relaunches it in the same mode;
 * - the last prune and when the prune clock started, so the pruning interval survives restarts;
 * - the last applied tracker command (epoch, generation), so an old command is never applied twice;
 * - the pid of the node it launched, so an orphan left by a SIGKILLed sidecar is found and stopped cleanly.
 */
export const sidecarStateSchema = z.strictObject({
  version: z.literal(1),
  mode: z.enum(['normal', 'ghost']),
  modeChangedAt: z.number().int().nonnegative().nullable(),
  modeReason: z.string(),
  lastPrune: lastPruneSchema.nullable(),
  /** When the last prune started; later than `lastPrune.at` means that attempt failed or was interrupted. */
  lastPruneAttemptAt: z.number().int().nonnegative().nullable(),
  /**
   * When the pruning interval started counting, i.e. when this sidecar first ran: the first prune is due one
   * interval later (as in supervysor, whose counter started at its start), not at once.
   */
  pruneClockStartedAt: z.number().int().nonnegative().nullable().default(null),
  appliedEpoch: z.number().int().nonnegative(),
  appliedGeneration: z.number().int().nonnegative(),
  nodePid: z.number().int().positive().nullable(),
})

export type SidecarState = z.output<typeof sidecarStateSchema>
export type LastPrune = z.infer<typeof lastPruneSchema>

export const INITIAL_STATE: SidecarState = {
  version: 1,
  mode: 'normal',
  modeChangedAt: null,
  modeReason: 'initial state',
  lastPrune: null,
  lastPruneAttemptAt: null,
  pruneClockStartedAt: null,
  appliedEpoch: 0,
  appliedGeneration: 0,
  nodePid: null,
}

/** Raised when the state file exists but cannot be trusted; the sidecar refuses to guess a mode. */
export class SidecarStateError extends Error {
  constructor(file: string, reason: string) {
    super(
      `${file}: ${reason}. Fix or remove the file (removing it makes the sidecar start in normal mode and ` +
        'restore the stashed address book if one exists).',
    )
    this.name = 'SidecarStateError'
  }
}

/** Loads and saves {@link SidecarState} atomically in the sidecar's config directory. */
export class SidecarStateStore {
  readonly file: string

  constructor(configDir: string) {
    this.file = path.join(configDir, STATE_FILE)
  }

  /** Returns the saved state, or the initial state when none was saved yet. */
  async load(): Promise<SidecarState> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...INITIAL_STATE }
      throw error
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      throw new SidecarStateError(this.file, `not valid JSON (${(error as Error).message})`)
    }
    const parsed = sidecarStateSchema.safeParse(json)
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')
      throw new SidecarStateError(this.file, `invalid content: ${issues}`)
    }
    return parsed.data
  }

  async save(state: SidecarState): Promise<void> {
    const valid = sidecarStateSchema.parse(state)
    await writeFileAtomic(this.file, JSON.stringify(valid, null, 2) + '\n', { mode: 0o600 })
  }
}
