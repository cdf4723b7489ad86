/** A real pino logger whose JSON lines are kept in memory, so a test can count what the tracker logged. */
import { Writable } from 'node:stream'
import { createLogger, type Logger } from '@ghostfleet/telemetry'

export interface CapturedLog {
  logger: Logger
  /** Every line logged so far, parsed. */
  lines: Array<Record<string, unknown>>
  /** Lines whose `msg` contains `text`. */
  matching(text: string): Array<Record<string, unknown>>
}

export function captureLog(name: string): CapturedLog {
  const lines: Array<Record<string, unknown>> = []
  let partial = ''
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      partial += chunk.toString()
      let newline = partial.indexOf('\n')
      while (newline >= 0) {
        const line = partial.slice(0, newline)
        partial = partial.slice(newline + 1)
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
        newline = partial.indexOf('\n')
      }
      done()
    },
  })
  const logger = createLogger({ name, level: 'debug', pretty: false, destination })
  return {
    logger,
    lines,
    matching: (text) => lines.filter((line) => String(line['msg'] ?? '').includes(text)),
  }
}
