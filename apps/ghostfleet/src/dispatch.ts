import path from 'node:path'
import { markDispatched } from '@ghostfleet/core'
import { ALIASES, type AliasName, isAlias, isSubcommand, SUBCOMMANDS } from './subcommands.js'
import { GHOSTFLEET_VERSION } from './version.js'

/** Where the dispatcher's own messages go (help, version, usage errors). */
export interface DispatchOutput {
  out(text: string): void
  err(text: string): void
}

const processOutput: DispatchOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}

/** Exit code of a usage error (unknown subcommand or option), the same as the sidecar's. */
export const USAGE_EXIT = 2

export function helpText(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((name) => name.length))
  const lines = Object.entries(SUBCOMMANDS).map(([name, sub]) => `  ${name.padEnd(width)}  ${sub.summary}`)
  return [
    'Usage: ghostfleet <subcommand> [options]',
    '',
    'Ghostfleet: a fleet of KYVE data-source nodes, their sidecars and a tracker.',
    '',
    'Subcommands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     print this help (`ghostfleet <subcommand> --help` for a subcommand)',
    '  -V, --version  print the version',
    '',
    `The old names still work: ${Object.keys(ALIASES).join(', ')}`,
    '(ghostfleet-sidecar start … is ghostfleet sidecar start …; ghostfleet-simnode is ghostfleet devnet simnode).',
    '',
  ].join('\n')
}

/**
 * `ghostfleet <subcommand> …`: loads that subcommand's CLI and hands it the remaining arguments. Resolves to
 * the exit code; usage errors are 2.
 */
export async function dispatch(
  argv: readonly string[],
  output: DispatchOutput = processOutput,
): Promise<number> {
  const [word, ...rest] = argv
  if (word === undefined) {
    output.err(helpText())
    return USAGE_EXIT
  }
  if (word === '--help' || word === '-h') {
    output.out(helpText())
    return 0
  }
  if (word === 'help') {
    // `ghostfleet help sidecar` reads like git's; it is the subcommand's own help.
    return rest.length === 0 ? dispatch(['--help'], output) : dispatch([...rest, '--help'], output)
  }
  if (word === '--version' || word === '-V' || word === 'version') {
    output.out(`${GHOSTFLEET_VERSION}\n`)
    return 0
  }
  if (!isSubcommand(word)) {
    const what = word.startsWith('-') ? 'option' : 'subcommand'
    output.err(
      `ghostfleet: unknown ${what} ${JSON.stringify(word)}; the subcommands are ${Object.keys(SUBCOMMANDS).join(', ')} (see ghostfleet --help)\n`,
    )
    return USAGE_EXIT
  }
  markDispatched()
  const main = await SUBCOMMANDS[word].load()
  return await main(rest, `ghostfleet ${word}`)
}

/** Runs an old executable name (`ghostfleet-sidecar …`) as its subcommand, with its old name in the help. */
export async function dispatchAlias(alias: AliasName, argv: readonly string[]): Promise<number> {
  markDispatched()
  const main = await ALIASES[alias]()
  return await main(argv, alias)
}

/**
 * The name this process was started under, when it is one of the old names: a bin shim or a link to the
 * script (`ghostfleet-sidecar.js`), or a link to a single executable (`argv0` = `ghostfleet-sidecar`).
 */
export function aliasOf(argv0: string, script: string | undefined): AliasName | undefined {
  for (const candidate of [script, argv0]) {
    if (candidate === undefined) continue
    const name = path.basename(candidate).replace(/\.(c|m)?js$/, '')
    if (isAlias(name)) return name
  }
  return undefined
}
