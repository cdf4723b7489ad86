import { readFile } from 'node:fs/promises'

/** A process's resident set size in kB (`VmRSS` of /proc/<pid>/status), or null when it is gone. */
export async function rssKb(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    return match ? Number(match[1]) : null
  } catch {
    return null
  }
}

export interface RssSeries {
  id: string
  kind: string
  /** [ms after the fleet was up, kB] */
  points: Array<[number, number]>
}

export function summarizeRss(series: RssSeries): { firstKb: number; maxKb: number; lastKb: number } | null {
  const first = series.points[0]
  const last = series.points.at(-1)
  if (first === undefined || last === undefined) return null
  return { firstKb: first[1], maxKb: Math.max(...series.points.map((p) => p[1])), lastKb: last[1] }
}
