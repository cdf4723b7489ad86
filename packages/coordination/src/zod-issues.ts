import type { z } from 'zod'

/** One line per zod issue, each naming where it is (`sentinels[0].port: …`), for errors that say what is wrong. */
export function describeIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.reduce<string>((text, part) => {
      if (typeof part === 'number') return `${text}[${part}]`
      return text === '' ? String(part) : `${text}.${String(part)}`
    }, root)
    return path === '' ? issue.message : `${path}: ${issue.message}`
  })
}
