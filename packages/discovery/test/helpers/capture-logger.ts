import type { DiscoveryLogger } from '../../src/index.js'

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  message: string
}

/** A logger that keeps every line, so tests can assert what an operator would read. */
export function captureLogger(): DiscoveryLogger & {
  lines: LogLine[]
  messages(level?: LogLine['level']): string[]
} {
  const lines: LogLine[] = []
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message })
  }
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    messages: (level) =>
      lines.filter((line) => level === undefined || line.level === level).map((line) => line.message),
  }
}
