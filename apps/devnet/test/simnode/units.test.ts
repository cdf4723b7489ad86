import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { AddressBook, BUCKET_TYPE_NEW, BUCKET_TYPE_OLD } from '../../src/simnode/addrbook.js'
import { parseAppToml, renderAppToml } from '../../src/simnode/app-toml.js'
import { parseConfigToml, renderConfigToml } from '../../src/simnode/config-toml.js'
import { AddrBookError } from '../../src/simnode/errors.js'
import { renderGenesis } from '../../src/simnode/genesis.js'
import { parseGoDuration } from '../../src/simnode/go-duration.js'
import { GO_ZERO_TIME, goMarshalIndent, rfc3339Nano } from '../../src/simnode/go-format.js'
import { Ed25519Key, nodeKeyJson, PRIV_KEY_TYPE, verifyEd25519 } from '../../src/simnode/keys.js'
import {
  isRoutable,
  parseListenAddress,
  parsePeerAddress,
  splitAndTrimEmpty,
} from '../../src/simnode/net-address.js'
import { parseGoBool, resolveSettings } from '../../src/simnode/start-options.js'

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/simnode/${name}`, import.meta.url))

describe('address book file', () => {
  it('re-serialises a CometBFT-written book byte for byte (tabs, Go times, field order)', async () => {
    // `.golden`, not `.json`: the formatter must not touch these exact bytes.
    const text = await readFile(fixture('addrbook-cometbft.golden'), 'utf8')
    const book = AddressBook.parse(text, 'addrbook.json', { strict: true })
    expect(book.size).toBe(2)
    expect(book.serialize()).toBe(text)
  })

  it('a fresh book is {key, addrs: []} with a 24-hex-digit key', () => {
    const book = AddressBook.fresh({ strict: false })
    expect(book.serialize()).toBe(`{\n\t"key": "${book.key}",\n\t"addrs": []\n}`)
    expect(book.key).toMatch(/^[0-9a-f]{24}$/)
  })

  it('learned addresses are new, connected ones move to old; strict mode and self are refused', () => {
    const self = { id: 'a'.repeat(40), ip: '127.0.0.1', port: 1 }
    const peer = { id: 'b'.repeat(40), ip: '127.0.0.1', port: 2 }
    const strict = AddressBook.fresh({ strict: true, ourAddresses: [self] })
    expect(strict.addAddress(peer, self).added).toBe(false)
    const book = AddressBook.fresh({ strict: false, ourAddresses: [self] })
    expect(book.addAddress({ ...self, port: 9 }, peer).reason).toBe('our own address')
    expect(book.addAddress(peer, self, Date.UTC(2024, 0, 1)).added).toBe(true)
    const fresh = book.get(peer.id)!
    expect(fresh.bucket_type).toBe(BUCKET_TYPE_NEW)
    expect(fresh.last_attempt).toBe('2024-01-01T00:00:00Z')
    expect(fresh.last_success).toBe(GO_ZERO_TIME)
    expect(fresh.buckets).toHaveLength(1)
    book.markAttempt(peer.id)
    expect(book.get(peer.id)!.attempts).toBe(1)
    book.markGood(peer.id, Date.UTC(2024, 0, 2, 3, 4, 5, 60))
    const good = book.get(peer.id)!
    expect(good.bucket_type).toBe(BUCKET_TYPE_OLD)
    expect(good.attempts).toBe(0)
    expect(good.last_success).toBe('2024-01-02T03:04:05.06Z')
    expect(good.buckets[0]).toBeLessThan(64)
  })

  it('rejects malformed books the way CometBFT panics on them', () => {
    for (const bad of [
      '{',
      '{"addrs": [{"addr": {"id": "x", "ip": "nope", "port": 1}}]}',
      '{"addrs": [{"addr": {"ip": "1.2.3.4", "port": "26656"}}]}',
    ]) {
      expect(() => AddressBook.parse(bad, 'f.json', { strict: false })).toThrow(AddrBookError)
    }
    expect(AddressBook.parse('{"addrs": null}', 'f.json', { strict: false }).size).toBe(0)
  })
})

describe('Go encodings', () => {
  it('RFC3339Nano trims zeros like Go', () => {
    expect(rfc3339Nano(0)).toBe('1970-01-01T00:00:00Z')
    expect(rfc3339Nano(1, 500_000_000)).toBe('1970-01-01T00:00:01.5Z')
    expect(rfc3339Nano(1_727_704_721, 552_839_706)).toBe('2024-09-30T13:58:41.552839706Z')
    expect(rfc3339Nano(-62_135_596_800, 0)).toBe(GO_ZERO_TIME)
  })

  it('MarshalIndent escapes HTML characters as Go does', () => {
    expect(goMarshalIndent({ a: '<&>' }, '\t')).toBe('{\n\t"a": "\\u003c\\u0026\\u003e"\n}')
  })

  it('durations and booleans parse like Go', () => {
    expect(parseGoDuration('168h0m0s')).toBe(168 * 3600 * 1000)
    expect(parseGoDuration('100ms')).toBe(100)
    expect(parseGoDuration('3x')).toBeUndefined()
    expect(parseGoBool('F', 'p2p.pex')).toBe(false)
    expect(parseGoBool('1', 'p2p.pex')).toBe(true)
    expect(() => parseGoBool('no', 'p2p.pex')).toThrow('invalid argument "no" for "--p2p.pex" flag')
  })
})

describe('addresses', () => {
  it('splitAndTrimEmpty: a single space means none', () => {
    expect(splitAndTrimEmpty(' ')).toEqual([])
    expect(splitAndTrimEmpty('')).toEqual([])
    expect(splitAndTrimEmpty(' a , b,,c ')).toEqual(['a', 'b', 'c'])
  })

  it('peer and listen addresses', async () => {
    const id = 'c'.repeat(40)
    expect(await parsePeerAddress(`${id}@127.0.0.1:26656`)).toEqual({ id, ip: '127.0.0.1', port: 26656 })
    expect(await parsePeerAddress(`${id}@localhost:26656`)).toEqual({ id, ip: '127.0.0.1', port: 26656 })
    await expect(parsePeerAddress('127.0.0.1:26656')).rejects.toThrow('does not contain ID')
    await expect(parsePeerAddress(`${id.slice(1)}@127.0.0.1:1`)).rejects.toThrow('invalid peer ID')
    expect(parseListenAddress('tcp://0.0.0.0:26656', 'p2p.laddr')).toEqual({
      protocol: 'tcp',
      host: '0.0.0.0',
      port: 26656,
    })
    expect(parseListenAddress('127.0.0.1:5', 'x').port).toBe(5)
    expect(isRoutable('127.0.0.1')).toBe(false)
    expect(isRoutable('10.1.2.3')).toBe(false)
    expect(isRoutable('8.8.8.8')).toBe(true)
  })
})

describe('home files', () => {
  it('config.toml: the template parses back, flags override it', () => {
    const config = parseConfigToml(renderConfigToml({ moniker: 'm' }), 'config.toml')
    expect(config.moniker).toBe('m')
    expect(config.db_backend).toBe('goleveldb')
    expect(config.db_dir).toBe('data')
    expect(config.rpc.laddr).toBe('tcp://127.0.0.1:26657')
    expect(config.p2p).toMatchObject({
      laddr: 'tcp://0.0.0.0:26656',
      pex: true,
      addr_book_file: 'config/addrbook.json',
      seeds: '',
    })
    expect(config.p2p.dial_timeout).toBe(3000)
    const s = resolveSettings(
      { home: 'h', 'p2p.seeds': ' ', 'p2p.pex': 'false', 'p2p.laddr': 'tcp://127.0.0.1:1' },
      config,
    )
    expect(s).toMatchObject({
      seeds: ' ',
      pex: false,
      p2pLaddr: 'tcp://127.0.0.1:1',
      rpcLaddr: 'tcp://127.0.0.1:26657',
    })
    expect(() => parseConfigToml('db_backend = "rocksdb"', 'c.toml')).toThrow('db_backend')
  })

  it('app.toml: the SDK template and KYVE-style edits validate, broken pruning settings do not', () => {
    expect(parseAppToml(renderAppToml(), 'app.toml')).toMatchObject({
      pruning: 'default',
      minRetainBlocks: 0n,
    })
    const kyve = renderAppToml()
      .replace('pruning = "default"', 'pruning="custom"')
      .replace('pruning-keep-recent = "0"', 'pruning-keep-recent = "10"')
      .replace('pruning-interval = "0"', 'pruning-interval = "10"')
    expect(parseAppToml(kyve, 'app.toml')).toMatchObject({
      pruning: 'custom',
      keepRecent: 10n,
      interval: 10n,
    })
    expect(() => parseAppToml(kyve.replace('"10"\npruning-interval', '"1"\npruning-interval'), 'a')).toThrow(
      'pruning-keep-recent',
    )
    expect(() => parseAppToml('pruning = "sometimes"', 'a')).toThrow('unknown pruning strategy')
  })

  it('genesis depends on the chain id only', () => {
    expect(renderGenesis('x-1')).toBe(renderGenesis('x-1'))
    expect(renderGenesis('x-1')).not.toBe(renderGenesis('x-2'))
    expect(JSON.parse(renderGenesis('x-1')).validators).toHaveLength(4)
  })

  it('node key: Go 64-byte private key, id = hex(sha256(pubkey)[:20])', () => {
    const key = Ed25519Key.generate()
    const json = JSON.parse(nodeKeyJson(key))
    expect(json.priv_key.type).toBe(PRIV_KEY_TYPE)
    const raw = Buffer.from(json.priv_key.value, 'base64')
    expect(raw).toHaveLength(64)
    expect(raw.subarray(32)).toEqual(key.publicKey)
    expect(key.nodeId).toBe(
      createHash('sha256').update(key.publicKey).digest().subarray(0, 20).toString('hex'),
    )
    const msg = Buffer.from('hello')
    expect(verifyEd25519(key.publicKey, msg, key.sign(msg))).toBe(true)
    expect(Ed25519Key.fromGoPrivateKey(raw).nodeId).toBe(key.nodeId)
  })
})
