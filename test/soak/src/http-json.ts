/** GET a JSON document: `{ status, body }`, or null when the server did not answer in time or sent no JSON. */
export async function getJson(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; body: unknown } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    try {
      return { status: response.status, body: JSON.parse(text) as unknown }
    } catch {
      return null
    }
  } catch {
    return null
  }
}
