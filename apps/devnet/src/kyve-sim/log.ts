/** One structured log line of the simulator (the CLI prints these as JSON lines). */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  msg: string
  [field: string]: unknown
}

/** Where the simulator's components write their log lines. */
export type Logger = (entry: LogEntry) => void

/** A logger that drops everything (the programmatic default). */
export const silentLogger: Logger = () => {}
