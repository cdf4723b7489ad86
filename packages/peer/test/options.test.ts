import { describe, expect, it } from 'vitest'
import {
  createPeerClient,
  InvalidPeerOptionsError,
  jsonResponse,
  PeerListenError,
  startPeerServer,
} from '../src/index.js'
import { client, key, keyHex, startServer } from './helpers/fixtures.js'

const base = { key, sidecarId: 'server-a', chainId: 'osmosis-1', handler: () => jsonResponse(200, {}) }

async function refusal(options: Record<string, unknown>): Promise<InvalidPeerOptionsError> {
  const error = await startPeerServer({ ...base, listen: '127.0.0.1:0', ...options } as never).catch(
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(InvalidPeerOptionsError)
  return error as InvalidPeerOptionsError
}

describe('options', () => {
  it('says what is wrong with a listen address', async () => {
    expect((await refusal({ listen: ':26671' })).message).toContain('the host is missing')
    expect((await refusal({ listen: 'http://127.0.0.1:1' })).message).toContain('it is a URL')
  })

  it('bounds every limit and names the option', async () => {
    const error = await refusal({
      limits: { windowMs: 0, maxConcurrent: 1e9, perSender: { ratePerSecond: -1 }, surprise: 1 },
    })
    expect(error.problems.join('\n')).toMatch(
      /limits\.windowMs: expected a whole number of milliseconds from 1000/,
    )
    expect(error.problems.join('\n')).toMatch(/limits\.maxConcurrent: /)
    expect(error.problems.join('\n')).toMatch(/limits\.perSender\.ratePerSecond: /)
    expect(error.problems.join('\n')).toMatch(/unknown key "surprise"/)
  })

  it('wants a FleetKey, and never prints key text it was given by mistake', async () => {
    const error = await refusal({ key: keyHex })
    expect(error.message).toContain('expected a FleetKey')
    expect(error.message).not.toContain(keyHex)
    const clientError = (() => {
      try {
        createPeerClient({ key: keyHex as never, sender: 'a' })
      } catch (caught) {
        return caught as Error
      }
      return null
    })()
    expect(clientError).toBeInstanceOf(InvalidPeerOptionsError)
    expect(clientError?.message).not.toContain(keyHex)
  })

  it('checks call options before sending anything', async () => {
    const { server, events } = await startServer()
    const peer = client()
    for (const call of [
      { path: 'no-slash' },
      { path: '/a b' },
      { path: '/', headers: { 'x-ghostfleet-sender': 'x' } },
    ]) {
      await expect(peer.request(server.url, call)).rejects.toBeInstanceOf(InvalidPeerOptionsError)
    }
    await expect(peer.request('ftp://127.0.0.1:1', { path: '/' })).rejects.toBeInstanceOf(
      InvalidPeerOptionsError,
    )
    expect(events).toEqual([])
  })

  it('reports an address in use as a PeerListenError', async () => {
    const { server } = await startServer()
    const error = await startPeerServer({ ...base, listen: server.address }).catch(
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(PeerListenError)
    expect(String(error)).toContain('EADDRINUSE')
  })
})
