/** Log levels in CometBFT's order; `--log_level` picks the lowest one printed. */
export const LOG_LEVELS = ['debug', 'info', 'error', 'none'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogFormat = 'plain' | 'json'

export type LogFields = Record<string, string | number | boolean | bigint | null | undefined>

/** One line per event on a writable stream: CometBFT-like plain text (`I[…] msg key=value`) or JSON lines. */
export class Logger {
  constructor(
    private readonly out: { write(chunk: string): unknown },
    private readonly level: LogLevel = 'info',
    private readonly format: LogFormat = 'plain',
    private readonly module = 'main',
  ) {}

  /** A logger with the same sink and settings that tags its lines with `module`. */
  with(module: string): Logger {
    return new Logger(this.out, this.level, this.format, module)
  }

  debug(msg: string, fields: LogFields = {}): void {
    this.write('debug', msg, fields)
  }

  info(msg: string, fields: LogFields = {}): void {
    this.write('info', msg, fields)
  }

  error(msg: string, fields: LogFields = {}): void {
    this.write('error', msg, fields)
  }

  private write(level: Exclude<LogLevel, 'none'>, msg: string, fields: LogFields): void {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.level)) return
    const now = new Date()
    if (this.format === 'json') {
      const record: Record<string, unknown> = { level, ts: now.toISOString(), module: this.module, _msg: msg }
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined) record[k] = typeof v === 'bigint' ? v.toString() : v
      }
      this.out.write(`${JSON.stringify(record)}\n`)
      return
    }
    const stamp = now.toISOString().replace('T', '|').replace('Z', '')
    let line = `${level[0]!.toUpperCase()}[${stamp}] ${msg.padEnd(44)} module=${this.module}`
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue
      const s = String(v)
      line += ` ${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`
    }
    this.out.write(`${line}\n`)
  }
}

/** Parses a `--log_level` value. CometBFT also accepts `module:level,*:level`; the `*` (or last) level wins here. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const parts = value.split(',').map((p) => p.trim())
  let chosen: string | undefined
  for (const part of parts) {
    const level = part.includes(':') ? part.slice(part.indexOf(':') + 1) : part
    if (!part.includes(':') || part.startsWith('*:')) chosen = level
  }
  chosen ??= parts.at(-1)?.split(':').at(-1)
  return (LOG_LEVELS as readonly string[]).includes(chosen ?? '') ? (chosen as LogLevel) : undefined
}
