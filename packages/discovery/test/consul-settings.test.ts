import { describe, expect, it } from 'vitest'
import { ConsulSettingsError, consulSettingsFrom } from '../src/index.js'

describe('consulSettingsFrom', () => {
  it.each([
    ['--consul', 'http://acl-token-Zq9@127.0.0.1:8500'],
    ['--consul', 'http://user:acl-token-Zq9@consul.internal:8500'],
    ['GHOSTFLEET_CONSUL_URL', 'https://:acl/token-Zq9@consul.internal:8501'],
  ])('refuses a URL with credentials from %s without repeating them', (source, url) => {
    const attempt = () =>
      source === '--consul' ? consulSettingsFrom(url, {}) : consulSettingsFrom(undefined, { [source]: url })
    expect(attempt).toThrow(ConsulSettingsError)
    expect(attempt).toThrow(source)
    expect(attempt).toThrow(/\*\*\*@consul\.internal|\*\*\*@127\.0\.0\.1/)
    expect(attempt).not.toThrow(/token-Zq9/)
  })
})
