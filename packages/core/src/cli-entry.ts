/**
 * How a command-line module knows whether to run itself. Each app's CLI module exports `main(argv, name)` and
 * calls `runAsEntry(main)`: run directly (`node apps/sidecar/dist/cli.js …`, the tests, old scripts), it parses
 * the process's arguments; loaded by the `ghostfleet` dispatcher, which calls `markDispatched()` first, it
 * waits to be called with the arguments after the subcommand. A process-wide mark rather than comparing
 * `import.meta.url` with `process.argv[1]`, because in a bundled single executable every module shares one file.
 */

/** A command line: parses `argv` (the arguments after the program's name) and resolves to the exit code. */
export type CliMain = (argv: readonly string[], name?: string) => Promise<number>

const DISPATCHED = Symbol.for('ghostfleet.cli.dispatched')

/** Called by a dispatcher before it loads a CLI module, so that module does not also run on its own. */
export function markDispatched(): void {
  ;(globalThis as Record<symbol, unknown>)[DISPATCHED] = true
}

/** Whether a dispatcher owns this process's arguments. */
export function isDispatched(): boolean {
  return (globalThis as Record<symbol, unknown>)[DISPATCHED] === true
}

/** Runs `main` with the process's arguments unless a dispatcher loaded the module; sets the exit code. */
export function runAsEntry(main: CliMain): void {
  if (isDispatched()) return
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exitCode = 1
    },
  )
}
