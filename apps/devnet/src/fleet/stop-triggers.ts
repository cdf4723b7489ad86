/**
 * Everything that must end the demo's fleet. The fleet's processes lead process groups of their own (see
 * `LocalFleet`), so a terminal's signals reach only the demo, which stops them in order; the flip side is that
 * whatever ends the demo has to be caught here, or its children outlive it:
 * - SIGINT (Ctrl-C), SIGTERM, and SIGHUP (the terminal closed: by default it kills the demo alone);
 * - EPIPE on stdout or stderr (`npm run demo | tee demo.log` with tee gone): by default an uncaught error;
 * - the demo's own crash (an uncaught exception or unhandled rejection).
 * A repeated trigger while the fleet is stopping does not kill the demo halfway through its teardown.
 */
export interface StopTriggers {
  /** Resolves with the first trigger's description. */
  readonly reason: Promise<string>
  /** Whether stdout can still be written to (false after EPIPE). */
  outputOpen(): boolean
  /** Removes the handlers (the demo is about to return). */
  dispose(): void
}

export interface StopTriggerOptions {
  durationSeconds?: number
  /** Told about a crash (the demo then exits non-zero once the fleet is down). */
  onCrash?: (error: unknown) => void
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

export function watchStopTriggers(options: StopTriggerOptions = {}): StopTriggers {
  let resolveReason: (reason: string) => void = () => {}
  const reason = new Promise<string>((resolve) => {
    resolveReason = resolve
  })
  let stdoutOpen = true
  const onSignal = (signal: NodeJS.Signals) => resolveReason(signal)
  const onOutputError = (stream: 'stdout' | 'stderr') => (error: NodeJS.ErrnoException) => {
    if (stream === 'stdout') stdoutOpen = false
    resolveReason(`${stream} closed (${error.code ?? error.message})`)
  }
  const onStdoutError = onOutputError('stdout')
  const onStderrError = onOutputError('stderr')
  const onCrash = (error: unknown) => {
    options.onCrash?.(error)
    resolveReason(`crashed: ${error instanceof Error ? error.message : String(error)}`)
  }
  for (const signal of SIGNALS) process.on(signal, onSignal)
  process.stdout.on('error', onStdoutError)
  process.stderr.on('error', onStderrError)
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  const timer =
    options.durationSeconds === undefined
      ? undefined
      : setTimeout(() => resolveReason('duration elapsed'), options.durationSeconds * 1000)
  timer?.unref()
  return {
    reason,
    outputOpen: () => stdoutOpen,
    dispose() {
      clearTimeout(timer)
      for (const signal of SIGNALS) process.off(signal, onSignal)
      process.off('uncaughtException', onCrash)
      process.off('unhandledRejection', onCrash)
      // The output error handlers stay: a write still in flight may yet fail with EPIPE.
    },
  }
}
