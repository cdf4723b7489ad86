// biome-ignore lint/suspicious/noExplicitAny: JSON documents are inspected freely in assertions
export type Json = Record<string, any>

/** GET a JSON document (a body that is not JSON comes back as `{ text }`); null while the server does not answer. */
export async function getJson(
  url: string,
  timeoutMs = 3_000,
): Promise<{ status: number; body: Json } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    try {
      return { status: response.status, body: JSON.parse(text) as Json }
    } catch {
      return { status: response.status, body: { text } }
    }
  } catch {
    return null
  }
}

/** GET a text document (`/metrics`); throws when it does not answer 200. */
export async function getText(url: string, timeoutMs = 5_000): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`)
  return await response.text()
}
