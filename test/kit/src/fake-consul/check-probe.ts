/**
 * One run of an HTTP or TCP check, judged as the Consul docs say ("Register Check", `HTTP` and `TCP`):
 * HTTP: any 2xx is passing, 429 is warning, anything else (or no answer within `Timeout`) is critical;
 * TCP: a connection within `Timeout` is passing, otherwise critical. Output is worded like the agent's.
 */
import net from 'node:net'
import type { CheckDefinition, CheckStatus } from './register-body.js'

/** Consul caps check output at 4 KiB by default (`OutputMaxSize`). */
const OUTPUT_MAX = 4096

export interface ProbeResult {
  status: CheckStatus
  output: string
}

export async function probe(check: CheckDefinition): Promise<ProbeResult> {
  return check.HTTP !== '' ? await probeHttp(check) : await probeTcp(check)
}

async function probeHttp(check: CheckDefinition): Promise<ProbeResult> {
  const headers = new Headers()
  for (const [name, values] of Object.entries(check.Header))
    for (const value of values) headers.append(name, value)
  if (!headers.has('user-agent')) headers.set('user-agent', 'Consul Health Check')
  if (!headers.has('accept')) headers.set('accept', 'text/plain, text/*, */*')
  try {
    const response = await fetch(check.HTTP, {
      method: check.Method,
      headers,
      body: check.Body === '' ? undefined : check.Body,
      redirect: check.DisableRedirects ? 'manual' : 'follow',
      signal: AbortSignal.timeout(Math.max(1, Math.round(check.TimeoutNs / 1e6))),
    })
    const text = (await response.text()).slice(0, OUTPUT_MAX)
    const output = `HTTP ${check.Method} ${check.HTTP}: ${response.status} ${response.statusText} Output: ${text}`
    if (response.status >= 200 && response.status < 300) return { status: 'passing', output }
    if (response.status === 429) return { status: 'warning', output }
    return { status: 'critical', output }
  } catch (error) {
    const reason =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error)
    return { status: 'critical', output: `${check.Method} ${JSON.stringify(check.HTTP)}: ${reason}` }
  }
}

async function probeTcp(check: CheckDefinition): Promise<ProbeResult> {
  const separator = check.TCP.lastIndexOf(':')
  const host = check.TCP.slice(0, separator).replace(/^\[(.*)\]$/, '$1')
  const port = Number(check.TCP.slice(separator + 1))
  return await new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const finish = (result: ProbeResult) => {
      socket.destroy()
      resolve(result)
    }
    socket.setTimeout(Math.max(1, Math.round(check.TimeoutNs / 1e6)), () =>
      finish({ status: 'critical', output: `dial tcp ${check.TCP}: i/o timeout` }),
    )
    socket.once('connect', () => finish({ status: 'passing', output: `TCP connect ${check.TCP}: Success` }))
    socket.once('error', (error) =>
      finish({ status: 'critical', output: `dial tcp ${check.TCP}: ${error.message}` }),
    )
  })
}
