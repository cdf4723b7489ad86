import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '@ghostfleet/cometbft'
import {
  type DonationReport,
  type DonationRequest,
  type DonationState,
  donationReportSchema,
  MAX_REPORTED_DONATIONS,
  SIDECAR_ID_PATTERN,
} from '@ghostfleet/core'
import { z } from 'zod'

/** The wire's bound on `detail`. */
const MAX_DETAIL = 300

const ledgerFileSchema = z.object({
  format: z.literal('ghostfleet-donations'),
  version: z.literal(1),
  donations: z
    .array(donationReportSchema.and(z.object({ requestedBy: z.string().regex(SIDECAR_ID_PATTERN) })))
    .max(MAX_REPORTED_DONATIONS),
})

/**
 * The donations this sidecar knows, by bootstrap id, in the shape the fleet report carries. A request is carried
 * out once: a desired state that still names it (the tracker clears it once it saw `ready` or `failed`) finds it
 * here — also after a sidecar restart, since the ledger is kept in `file` (a restart must not stop the node a
 * second time for one request: the tracker's budget counted one stop). At most {@link MAX_REPORTED_DONATIONS} are
 * kept; the oldest finished one makes room first.
 */
export class DonationLedger {
  private readonly entries = new Map<string, DonationReport & { requestedBy: string }>()
  private saving: Promise<void> = Promise.resolve()

  constructor(
    private readonly now: () => number,
    /** Where the ledger is kept across restarts; null: in memory only. */
    private readonly file: string | null = null,
    private readonly onSaveError: (error: Error) => void = () => {},
  ) {}

  /**
   * Loads the ledger a previous run kept. A donation it left `taking` or `sealing` was cut short by the restart:
   * it becomes `failed` (its checkpoint, unsealed, is never served and goes with the TTL).
   * @returns the bootstrap ids that were cut short.
   */
  async load(): Promise<string[]> {
    if (this.file === null) return []
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch {
      return []
    }
    let parsed: z.infer<typeof ledgerFileSchema>
    try {
      parsed = ledgerFileSchema.parse(JSON.parse(text))
    } catch {
      return []
    }
    const cut: string[] = []
    for (const entry of parsed.donations) {
      if (entry.state === 'taking' || entry.state === 'sealing') {
        cut.push(entry.bootstrapId)
        this.entries.set(entry.bootstrapId, {
          ...entry,
          state: 'failed',
          detail: 'the sidecar restarted during the donation; ask for a new one (the node serves)',
          at: this.now(),
        })
      } else this.entries.set(entry.bootstrapId, entry)
    }
    if (cut.length > 0) this.save()
    return cut
  }

  /** Resolves once the writes asked for so far are on disk. */
  async flush(): Promise<void> {
    await this.saving
  }

  knows(bootstrapId: string): boolean {
    return this.entries.has(bootstrapId)
  }

  get(bootstrapId: string): (DonationReport & { requestedBy: string }) | undefined {
    return this.entries.get(bootstrapId)
  }

  set(
    request: Pick<DonationRequest, 'bootstrapId' | 'requestedBy'>,
    state: DonationState,
    extra: { checkpointId?: string; detail?: string } = {},
  ): void {
    const previous = this.entries.get(request.bootstrapId)
    this.entries.delete(request.bootstrapId)
    const checkpointId = extra.checkpointId ?? previous?.checkpointId
    this.entries.set(request.bootstrapId, {
      bootstrapId: request.bootstrapId,
      requestedBy: request.requestedBy,
      state,
      ...(checkpointId === undefined ? {} : { checkpointId }),
      ...(extra.detail === undefined ? {} : { detail: clip(extra.detail) }),
      at: this.now(),
    })
    while (this.entries.size > MAX_REPORTED_DONATIONS) {
      const finished = [...this.entries.values()].find((e) => e.state === 'ready' || e.state === 'failed')
      const drop = finished?.bootstrapId ?? this.entries.keys().next().value
      if (drop === undefined) break
      this.entries.delete(drop)
    }
    this.save()
  }

  /** The bootstrap request a checkpoint was taken for, if this sidecar took it since it started. */
  requesterOf(checkpointId: string): string | null {
    for (const entry of this.entries.values())
      if (entry.checkpointId === checkpointId) return entry.requestedBy
    return null
  }

  /** Writes the ledger after the writes before (in order; a failure is reported and the next write tries again). */
  private save(): void {
    const file = this.file
    if (file === null) return
    const content: DonationLedgerFile = {
      format: 'ghostfleet-donations',
      version: 1,
      donations: [...this.entries.values()],
    }
    const text = `${JSON.stringify(content, null, 2)}\n`
    this.saving = this.saving.then(async () => {
      try {
        await mkdir(path.dirname(file), { recursive: true })
        await writeFileAtomic(file, text)
      } catch (error) {
        this.onSaveError(error instanceof Error ? error : new Error(String(error)))
      }
    })
  }

  /** For the fleet report: oldest first. */
  list(): DonationReport[] {
    return [...this.entries.values()].map(({ requestedBy: _, ...report }) => report)
  }
}

export interface DonationLedgerFile {
  format: 'ghostfleet-donations'
  version: 1
  donations: Array<DonationReport & { requestedBy: string }>
}

function clip(text: string): string {
  return text.length <= MAX_DETAIL ? text : `${text.slice(0, MAX_DETAIL - 1)}…`
}
