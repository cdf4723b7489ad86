import { describe, expect, it } from 'vitest'
import { CHAIN_PRESETS, InvalidOptionsError, resolveEndpoints, UnknownChainError } from '../src/index.js'

describe('CHAIN_PRESETS / resolveEndpoints', () => {
  it('knows the three public chains', () => {
    expect(CHAIN_PRESETS).toEqual({
      'kyve-1': ['https://api.kyve.network'],
      'kaon-1': ['https://api.kaon.kyve.network'],
      'korellia-2': ['https://api.korellia.kyve.network'],
    })
    expect(resolveEndpoints('kaon-1')).toEqual(['https://api.kaon.kyve.network'])
  })

  it('lets overrides win over presets, normalised and de-duplicated', () => {
    expect(
      resolveEndpoints('kyve-1', [
        'https://lcd.example.org/',
        'http://10.0.0.5:1317',
        'https://lcd.example.org',
      ]),
    ).toEqual(['https://lcd.example.org', 'http://10.0.0.5:1317'])
    expect(resolveEndpoints('kyve-1', ['https://proxy.example.org/kyve/api//'])).toEqual([
      'https://proxy.example.org/kyve/api',
    ])
  })

  it('treats an empty override list as no override', () => {
    expect(resolveEndpoints('korellia-2', [])).toEqual(['https://api.korellia.kyve.network'])
  })

  it('accepts an unknown chain id when endpoints are given', () => {
    expect(resolveEndpoints('kyve-devnet-7', ['http://127.0.0.1:1317'])).toEqual(['http://127.0.0.1:1317'])
  })

  it('rejects an unknown chain id without overrides, listing the known ones', () => {
    expect(() => resolveEndpoints('osmosis-1')).toThrow(UnknownChainError)
    expect(() => resolveEndpoints('osmosis-1')).toThrow(/kyve-1, kaon-1, korellia-2/)
    expect(() => resolveEndpoints('constructor')).toThrow(UnknownChainError)
  })

  it('rejects unusable endpoints and an empty chain id', () => {
    for (const bad of [
      'api.kyve.network',
      'ftp://api.kyve.network',
      'https://api.kyve.network?x=1',
      'https://u:p@h',
    ]) {
      expect(() => resolveEndpoints('kyve-1', [bad]), bad).toThrow(InvalidOptionsError)
    }
    expect(() => resolveEndpoints(' ')).toThrow(InvalidOptionsError)
  })
})
