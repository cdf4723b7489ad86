#!/usr/bin/env node
import { TcpRelay } from './tcp-relay.js'

/*
 * `node relay-cli.js <listen-host> <listen-port> <target-host> <target-port> [marker]`: a fixed TCP relay, run by
 * the soak inside a network namespace (`ip netns exec`). The marker (the soak's directory) is only there so the
 * soak's search for leftover processes finds it.
 */

const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2)
const port = (text: string | undefined) => {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`not a port: ${text}`)
  return value
}
if (listenHost === undefined || targetHost === undefined) {
  process.stderr.write('usage: relay-cli <listen-host> <listen-port> <target-host> <target-port> [marker]\n')
  process.exit(2)
}
const target = { host: targetHost, port: port(targetPort) }
await TcpRelay.listen({ host: listenHost, port: port(listenPort) }, () => target)
process.stdout.write(`relaying ${listenHost}:${listenPort} -> ${targetHost}:${targetPort}\n`)
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0))
