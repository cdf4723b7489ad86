import { describe, expect, it } from 'vitest'
import { parseListenAddress } from '../src/index.js'

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:26670', '127.0.0.1', 26670],
    ['0.0.0.0:80', '0.0.0.0', 80],
    ['localhost:26670', 'localhost', 26670],
    ['sidecar-1.internal:9000', 'sidecar-1.internal', 9000],
    ['[::1]:26670', '::1', 26670],
    ['[fe80::1]:0', 'fe80::1', 0],
    ['127.0.0.1:65535', '127.0.0.1', 65535],
  ])('splits %s', (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ host, port })
  })

  it.each([
    '26670',
    ':26670',
    '127.0.0.1',
    '127.0.0.1:',
    '127.0.0.1:65536',
    '127.0.0.1:026670',
    '127.0.0.1:+80',
    '127.0.0.1:80 ',
    '999.1.1.1:80',
    '::1:26670',
    '[::1]',
    '[nonsense]:80',
    'host name:80',
    'http://127.0.0.1:80',
    '-bad-.example:80',
  ])('rejects %j', (text) => {
    expect(parseListenAddress(text)).toBeNull()
  })
})
