/** Lines printed in the message; `issues` always holds all of them. Garbage input can fail on every key. */
const MAX_LINES = 20

/**
 * Input from outside (a config file, a KYVE answer, a Redis message) did not match its schema. Nothing was
 * changed. The message has one line per problem, `source: path: what was expected, got what`.
 */
export class ValidationError extends Error {
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
