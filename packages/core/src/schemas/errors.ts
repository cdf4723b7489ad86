/** Lines printed in the message; `issues` always holds all of them. Garbage input can fail on every key. */
const MAX_LINES = 20

import { ConfigError } from '../settings/config-error.js'

/**
 * Input from outside (a config file, a KYVE answer, a Redis message) did not match its schema. Nothing was
 * changed. The message has one line per problem, `source: path: what was expected, got what`. A
 * {@link ConfigError}: one that escapes to the top of a binary comes from its config file or flags (messages and
 * answers from the network are caught where they are read).
 */
export class ValidationError extends ConfigError {
  override readonly name = 'ValidationError'
  /** One entry per problem, `path: expectation, got value`, without the source prefix. */
  readonly issues: string[]
  /** Where the input came from: a file path, `redis gf:{sc:a}:desired`, `https://api.kyve.network`. */
  readonly source: string

  constructor(source: string, issues: string[]) {
    const shown = issues.slice(0, MAX_LINES).map((issue) => `${source}: ${issue}`)
    if (issues.length > MAX_LINES) shown.push(`${source}: … and ${issues.length - MAX_LINES} more problems`)
    super(shown.join('\n'))
    this.issues = issues
    this.source = source
  }
}
