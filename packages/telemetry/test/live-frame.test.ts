import { describe, expect, it } from 'vitest'
import { LiveFrame, rowsOf } from '../src/live-frame.js'

function recorder() {
  const out: string[] = []
  return { out, write: (text: string) => void out.push(text) }
}

describe('LiveFrame', () => {
  it('appends plain frames, a blank line apart, when the output is not a terminal', () => {
    const { out, write } = recorder()
    const live = new LiveFrame({ write, tty: false })
    live.line('starting')
    live.frame('a\nb')
    live.frame('c\nd\n')
    expect(out.join('')).toBe('starting\na\nb\n\nc\nd\n')
    expect(out.join('')).not.toContain('\x1b')
  })

  it('redraws in place on a terminal: back up over the previous frame, erase, draw', () => {
    const { out, write } = recorder()
    const live = new LiveFrame({ write, tty: true, columns: () => 10 })
    live.line('starting')
    live.frame('a\nb')
    live.frame('0123456789abc\nd')
    live.frame('e')
    expect(out).toEqual([
      'starting\n',
      '\r\x1b[Ja\nb\n',
      '\r\x1b[2A\x1b[J0123456789abc\nd\n',
      // The 13-character line took two rows of a 10-column terminal.
      '\r\x1b[3A\x1b[Je\n',
    ])
  })

  it('counts wrapped rows', () => {
    expect(rowsOf('abc\n\nx\n', 2)).toBe(4)
    expect(rowsOf('abc\n\nx\n', undefined)).toBe(3)
  })
})
