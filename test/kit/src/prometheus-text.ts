/*
 * Reading a Prometheus text exposition (what `/metrics` serves and `registry.metrics()` returns) in assertions:
 * one series by name and labels, or the sum of every series of a metric.
 */

const SERIES = /^([a-z_]+)(\{([^}]*)\})?\s+(\S+)$/

/** The value of one series (`name{a="b"}`; every given label must match), or undefined when there is none. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const match = SERIES.exec(line)
    if (match === null || match[1] !== name) continue
    const found = new Map<string, string>()
    for (const pair of (match[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g))
      found.set(pair[1] as string, pair[2] as string)
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) return Number(match[4])
  }
  return undefined
}

/** The sum of every series of one metric (all label values); 0 when there is none. */
export function metricSum(text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) {
    const match = SERIES.exec(line)
    if (match !== null && match[1] === name) sum += Number(match[4])
  }
  return sum
}
