/**
 * A live view on a terminal: each frame (a table, a status block) replaces the previous one in place on a TTY, by
 * moving the cursor back up over it and erasing to the end of the screen, so the scrollback keeps one copy; when
 * the output is not a TTY (a pipe, a file, `| tee log`) frames are appended as plain lines, a blank line apart,
 * with no control sequences in them.
 */
export interface LiveFrameOptions {
  /** Where the text goes (e.g. `(t) => process.stdout.write(t)`). */
  write: (text: string) => void
  /** Redraw in place (a TTY) rather than append. */
  tty: boolean
  /** The terminal's width, so that wrapped lines are counted as the rows they take. */
  columns?: () => number | undefined
}

export class LiveFrame {
  /** Rows the current frame takes on screen; 0 when the last thing written was not a frame. */
  private rows = 0

  constructor(private readonly options: LiveFrameOptions) {}

  /** Shows `text` as the current frame. */
  frame(text: string): void {
    const body = text.endsWith('\n') ? text : `${text}\n`
    if (!this.options.tty) {
      this.options.write(`${this.rows > 0 ? '\n' : ''}${body}`)
      this.rows = rowsOf(body, undefined)
      return
    }
    const up = this.rows > 0 ? `\r\x1b[${this.rows}A` : '\r'
    this.options.write(`${up}\x1b[J${body}`)
    this.rows = rowsOf(body, this.options.columns?.())
  }

  /** A line outside the frames (a progress message): it stays, and the next frame goes below it. */
  line(text: string): void {
    this.options.write(`${text}\n`)
    this.rows = 0
  }
}

/** The terminal rows `body` (ending in a newline) takes on a screen `columns` wide. */
export function rowsOf(body: string, columns: number | undefined): number {
  const lines = body.slice(0, -1).split('\n')
  if (columns === undefined || columns <= 0) return lines.length
  return lines.reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / columns)), 0)
}
