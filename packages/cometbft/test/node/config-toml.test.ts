import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  InvalidListenAddressError,
  NodeConfigError,
  readNodeConfig,
  rpcEndpointFromLaddr,
} from '../../src/node/index.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'toml')

let home: TempDir
let configFile: string

beforeEach(async () => {
  home = await tempDir('ghostfleet-config-')
  await mkdir(path.join(home.path, 'config'))
  configFile = path.join(home.path, 'config', 'config.toml')
})

afterEach(async () => {
  await home.remove()
})

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('readNodeConfig', () => {
  it('reads the keys the sidecar needs from a real-shaped config.toml', async () => {
    await copyFile(path.join(fixtures, 'config-osmosis.toml'), configFile)
    const config = await readNodeConfig(home.path)
    expect(config).toEqual({
      file: configFile,
      moniker: 'kyve-ds-osmosis-01',
      dbBackend: 'goleveldb',
      dbDir: 'data',
      dbPath: path.join(home.path, 'data'),
      genesisPath: path.join(home.path, 'config', 'genesis.json'),
      rpc: { laddr: 'tcp://0.0.0.0:26657' },
      p2p: {
        laddr: 'tcp://0.0.0.0:26656',
        seeds: [
          '21d7539792ee2e0d650b199bf742c56ae0cf499e@162.55.132.230:2000',
          '44ff091135ef2c69421eacfa136860472ac26e60@65.21.141.212:2000',
          'ade4d8bc8cbe014af6ebdf3cb7b1e9ad36f412c0@seeds.polkachu.com:12556',
        ],
        persistentPeers: ['8f67a2fcdd7ade970b1983bf1697111d35dfdd6f@52.79.199.137:26656'],
        pex: true,
        addrBookFile: 'config/addrbook.json',
        addrBookPath: path.join(home.path, 'config', 'addrbook.json'),
      },
    })
  })

  it("fills in CometBFT's defaults for keys that are absent", async () => {
    await writeFile(configFile, '# nothing set\n')
    const config = await readNodeConfig(home.path)
    expect(config.moniker).toBe(os.hostname())
    expect(config.dbBackend).toBe('goleveldb')
    expect(config.dbPath).toBe(path.join(home.path, 'data'))
    expect(config.rpc.laddr).toBe('tcp://127.0.0.1:26657')
    expect(config.p2p).toEqual({
      laddr: 'tcp://0.0.0.0:26656',
      seeds: [],
      persistentPeers: [],
      pex: true,
      addrBookFile: 'config/addrbook.json',
      addrBookPath: path.join(home.path, 'config', 'addrbook.json'),
    })
  })

  it('splits seeds like CometBFT: " " and empty entries mean none', async () => {
    await writeFile(configFile, '[p2p]\nseeds = " "\npersistent_peers = ",a@b:1,, "\npex = false\n')
    const config = await readNodeConfig(home.path)
    expect(config.p2p.seeds).toEqual([])
    expect(config.p2p.persistentPeers).toEqual(['a@b:1'])
    expect(config.p2p.pex).toBe(false)
  })

  it('keeps absolute db_dir and addr_book_file, resolves relative ones against the home', async () => {
    await writeFile(
      configFile,
      'db_dir = "/mnt/nvme/osmosis"\n[p2p]\naddr_book_file = "/var/lib/osmosis/addrbook.json"\n',
    )
    const config = await readNodeConfig(home.path)
    expect(config.dbPath).toBe('/mnt/nvme/osmosis')
    expect(config.p2p.addrBookPath).toBe('/var/lib/osmosis/addrbook.json')
    await writeFile(configFile, 'db_dir = "chain-data"\n[p2p]\naddr_book_file = "config/book.json"\n')
    const relative = await readNodeConfig(home.path)
    expect(relative.dbPath).toBe(path.join(home.path, 'chain-data'))
    expect(relative.p2p.addrBookPath).toBe(path.join(home.path, 'config', 'book.json'))
  })

  it('names the file and the key when a value has the wrong type', async () => {
    await writeFile(configFile, '[p2p]\npex = "yes"\n')
    const error = await rejection(readNodeConfig(home.path))
    expect(error).toBeInstanceOf(NodeConfigError)
    expect((error as NodeConfigError).key).toBe('p2p.pex')
    expect(error.message).toContain(configFile)
    expect(error.message).toMatch(/p2p\.pex: expected true or false, got string "yes"/)

    await writeFile(configFile, '[rpc]\nladdr = 26657\n')
    expect((await rejection(readNodeConfig(home.path))).message).toMatch(/rpc\.laddr: .*got number 26657/)

    await writeFile(configFile, 'p2p = "x"\n')
    expect((await rejection(readNodeConfig(home.path))).message).toMatch(/p2p: expected a table/)
  })

  it('names the file and the line when it is not TOML', async () => {
    await writeFile(configFile, 'moniker = "a"\n[p2p\nseeds = ""\n')
    const error = await rejection(readNodeConfig(home.path))
    expect(error).toBeInstanceOf(NodeConfigError)
    expect(error.message).toContain(configFile)
    expect(error.message).toMatch(/not valid TOML at line 2/)
  })

  it('says so when config.toml does not exist', async () => {
    const error = await rejection(readNodeConfig(home.path))
    expect(error).toBeInstanceOf(NodeConfigError)
    expect(error.message).toBe(`${configFile}: file not found`)
  })
})

describe('rpcEndpointFromLaddr', () => {
  const cases: Array<[string, string]> = [
    ['tcp://0.0.0.0:26657', 'http://127.0.0.1:26657'],
    ['tcp://127.0.0.1:26657', 'http://127.0.0.1:26657'],
    ['tcp://10.1.2.3:36657', 'http://10.1.2.3:36657'],
    ['tcp://localhost:26657', 'http://localhost:26657'],
    ['tcp://:26657', 'http://127.0.0.1:26657'],
    ['0.0.0.0:26657', 'http://127.0.0.1:26657'],
    ['tcp://[::]:26657', 'http://[::1]:26657'],
    ['tcp://[fd00::5]:26657', 'http://[fd00::5]:26657'],
    ['  tcp://0.0.0.0:26657  ', 'http://127.0.0.1:26657'],
  ]
  for (const [laddr, endpoint] of cases) {
    it(`${laddr} → ${endpoint}`, () => {
      expect(rpcEndpointFromLaddr(laddr)).toBe(endpoint)
    })
  }

  it('rejects what an HTTP client cannot reach', () => {
    expect(() => rpcEndpointFromLaddr('unix:///var/run/comet.sock')).toThrow(InvalidListenAddressError)
    expect(() => rpcEndpointFromLaddr('unix:///var/run/comet.sock')).toThrow(/unix sockets/)
    expect(() => rpcEndpointFromLaddr('grpc://0.0.0.0:9090')).toThrow(/unsupported scheme "grpc"/)
    expect(() => rpcEndpointFromLaddr('tcp://0.0.0.0')).toThrow(/no port/)
    expect(() => rpcEndpointFromLaddr('tcp://0.0.0.0:http')).toThrow(/invalid port/)
    expect(() => rpcEndpointFromLaddr('tcp://0.0.0.0:70000')).toThrow(/invalid port/)
    expect(() => rpcEndpointFromLaddr('tcp://::1:26657')).toThrow(/brackets/)
  })
})
