import http from 'node:http'

export interface PlainAnswer {
  status: number
  text: string
  headers: http.IncomingHttpHeaders
  json(): unknown
}

/**
 * One HTTP request on a fresh connection (no keep-alive pool), so a test that restarts the fake agent never
 * trips over a pooled socket the agent has just closed.
 */
export async function request(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<PlainAnswer> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({
          status: res.statusCode ?? 0,
          text,
          headers: res.headers,
          json: () => JSON.parse(text) as unknown,
        })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}
