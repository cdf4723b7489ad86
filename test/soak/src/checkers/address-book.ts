/*
 * Address book: the entries a node had in normal mode must all be back after it returns from ghost mode (the
 * stashed book wins over the near-empty one the ghost wrote). Fed one observation per sample; a node that returned
 * gets `graceMs` for its book to show every entry (it is restored before the node starts, but the soak may read it
 * in between), after which a missing entry is a violation.
 */

export interface BookObservation {
  id: string
  at: number
  mode: 'normal' | 'ghost' | null
  /** The node's book entries (`id@ip:port`) when read in normal mode with the node running; null otherwise. */
  entries: ReadonlySet<string> | null
}

interface BookState {
  /** The book as last seen in normal mode. */
  lastNormal: ReadonlySet<string> | null
  /** Seen in ghost mode since `lastNormal`. */
  wentGhost: boolean
  /** When it was first seen back in normal mode with entries missing. */
  missingSince: number | null
}

export class AddressBookChecker {
  private readonly states = new Map<string, BookState>()

  constructor(private readonly graceMs: number) {}

  /**
   * Returns `{ checked, problem }`: `checked` when a return to normal was judged (pass or fail), `problem` the
   * violation text.
   */
  observe(observation: BookObservation): { checked: boolean; problem: string | null } {
    const state = this.states.get(observation.id) ?? {
      lastNormal: null,
      wentGhost: false,
      missingSince: null,
    }
    this.states.set(observation.id, state)
    if (observation.mode === 'ghost') {
      if (state.lastNormal !== null) state.wentGhost = true
      state.missingSince = null
      return { checked: false, problem: null }
    }
    if (observation.mode !== 'normal' || observation.entries === null)
      return { checked: false, problem: null }
    const current = observation.entries
    if (!state.wentGhost || state.lastNormal === null) {
      state.lastNormal = current
      return { checked: false, problem: null }
    }
    const missing = [...state.lastNormal].filter((entry) => !current.has(entry))
    if (missing.length === 0) {
      state.wentGhost = false
      state.missingSince = null
      state.lastNormal = current
      return { checked: true, problem: null }
    }
    state.missingSince ??= observation.at
    if (observation.at - state.missingSince < this.graceMs) return { checked: false, problem: null }
    const problem = `${observation.id}: back in normal mode for ${observation.at - state.missingSince} ms without ${missing.length} of ${state.lastNormal.size} original address book entries (${missing.slice(0, 3).join(', ')})`
    state.wentGhost = false
    state.missingSince = null
    state.lastNormal = current
    return { checked: true, problem }
  }
}

/** The entries of an `addrbook.json` (CometBFT's format), as `id@ip:port`. Unreadable or malformed → null. */
export function addressBookEntries(text: string): Set<string> | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const addrs = (parsed as { addrs?: unknown }).addrs
  if (addrs === null || addrs === undefined) return new Set()
  if (!Array.isArray(addrs)) return null
  const entries = new Set<string>()
  for (const item of addrs) {
    const addr = (item as { addr?: { id?: unknown; ip?: unknown; port?: unknown } } | null)?.addr
    if (addr && typeof addr.ip === 'string')
      entries.add(`${String(addr.id ?? '')}@${addr.ip}:${String(addr.port ?? 0)}`)
  }
  return entries
}
