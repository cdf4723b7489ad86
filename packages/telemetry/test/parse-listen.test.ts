import { describe, expect, it } from 'vitest'
import { formatHostPort, ListenAddressError, parseListen } from '../src/parse-listen.js'

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:9090', '127.0.0.1', 9090],
    ['0.0.0.0:0', '0.0.0.0', 0],
    ['localhost:65535', 'localhost', 65535],
    ['sidecar-1.fleet.internal:26660', 'sidecar-1.fleet.internal', 26660],
    ['[::1]:9090', '::1', 9090],
    ['[::]:0', '::', 0],
    ['9090', '127.0.0.1', 9090],
    ['0', '127.0.0.1', 0],
  ])('parses %j', (listen, host, port) => {
    expect(parseListen(listen)).toEqual({ host, port })
  })

  it.each([
    ['', /empty/],
    [' 127.0.0.1:80', /" 127.0.0.1" is not an IPv4 address or host name/],
    ['127.0.0.1:080', /port "080" is not a number/],
    [':9090', /host is missing.*127\.0\.0\.1:9090.*0\.0\.0\.0:9090/],
    ['::1:9090', /IPv6 address must be written in brackets/],
    ['[::1]', /followed by :port/],
    ['[::1]9090', /followed by :port/],
    ['[nonsense]:9090', /"nonsense" is not an IPv6 address/],
    ['127.0.0.1', /port is missing/],
    ['localhost', /port is missing/],
    ['127.0.0.1:', /port "" is not a number/],
    ['127.0.0.1:http', /port "http" is not a number/],
    ['127.0.0.1:-1', /port "-1" is not a number/],
    ['127.0.0.1:65536', /port 65536 is above 65535/],
    ['127.0.0.1:123456', /port "123456" is not a number/],
    ['999.0.0.1:80', /"999.0.0.1" is not an IPv4 address or host name/],
    ['bad_host:80', /"bad_host" is not an IPv4 address or host name/],
    ['http://127.0.0.1:9090', /it is a URL/],
    ['99999', /port 99999 is above 65535/],
  ])('rejects %j with a clear error', (listen, reason) => {
    let caught: unknown
    try {
      parseListen(listen)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ListenAddressError)
    const error = caught as ListenAddressError
    expect(error.name).toBe('ListenAddressError')
    expect(error.listen).toBe(listen)
    expect(error.message).toContain(`invalid listen address ${JSON.stringify(listen)}`)
    expect(error.message).toMatch(reason)
    expect(error.message).toContain('expected host:port, [ipv6]:port or a bare port')
  })
})

describe('formatHostPort', () => {
  it('brackets IPv6 hosts only', () => {
    expect(formatHostPort('::1', 80)).toBe('[::1]:80')
    expect(formatHostPort('127.0.0.1', 80)).toBe('127.0.0.1:80')
    expect(formatHostPort('localhost', 80)).toBe('localhost:80')
  })
})
