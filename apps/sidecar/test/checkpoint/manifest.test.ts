import { describe, expect, it } from 'vitest'
import {
  type CheckpointManifest,
  CheckpointManifestError,
  canonicalManifestPayload,
  formatManifest,
  signManifest,
  type UnsignedManifest,
  verifyManifest,
} from '../../src/checkpoint/index.js'
import { newFleetKey, unsignedManifest } from './fixtures.js'

/*
 * The signed manifest: a forged or altered manifest, one signed with another fleet's key, or one out of bounds
 * is refused with a reason; the signature does not depend on key order.
 */

const key = newFleetKey()

const unsigned = (): UnsignedManifest =>
  unsignedManifest('ckpt-1', [
    { path: 'blockstore.db/000005.ldb', bytes: 4000, sha256: 'a'.repeat(64), immutable: true },
    { path: 'blockstore.db/CURRENT', bytes: 16, sha256: 'b'.repeat(64), immutable: false },
  ])

function rejectCode(input: unknown): string {
  try {
    verifyManifest(input, key)
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointManifestError)
    return `${(error as CheckpointManifestError).code}: ${(error as Error).message}`
  }
  return 'accepted'
}

describe('checkpoint manifest signature', () => {
  const signed: CheckpointManifest = signManifest(unsigned(), key)

  it('verifies a signed manifest, in its file form and with its keys in another order', () => {
    expect(verifyManifest(formatManifest(signed), key)).toEqual(signed)
    const reordered = Object.fromEntries(Object.entries(signed).reverse())
    expect(verifyManifest(JSON.stringify(reordered), key)).toEqual(signed)
    expect(canonicalManifestPayload(signed).startsWith('ghostfleet/checkpoint-manifest/v1\n')).toBe(true)
  })

  it('refuses a manifest altered after signing: a file hash, a size, a height, the donor, the file list', () => {
    const file0 = signed.files[0] as CheckpointManifest['files'][number]
    const altered: CheckpointManifest[] = [
      { ...signed, files: [{ ...file0, sha256: 'c'.repeat(64) }, ...signed.files.slice(1)] },
      { ...signed, files: [{ ...file0, bytes: 4001 }, ...signed.files.slice(1)] },
      { ...signed, files: signed.files.slice(1) },
      {
        ...signed,
        blockStore: { base: 999, height: 2500 },
        blocks: { ...signed.blocks, base: { ...signed.blocks.base, height: 999 } },
      },
      { ...signed, donor: 'donor-b' },
      { ...signed, state: { ...signed.state, appHash: '02'.repeat(32) } },
    ]
    for (const manifest of altered)
      expect(rejectCode(manifest)).toMatch(/^bad-signature: .*not signed with this fleet's key/)
  })

  it("refuses a manifest signed with another fleet's key, or unsigned, without printing the expected signature", () => {
    const forged = signManifest(unsigned(), newFleetKey())
    const message = rejectCode(forged)
    expect(message).toMatch(
      /^bad-signature: the checkpoint manifest 2500-20261207T064512123Z \(donor donor-a, chain ckpt-1\)/,
    )
    expect(message).not.toContain(signed.signature)
    expect(message).not.toContain(forged.signature)
    const { signature: _dropped, ...bare } = signed
    expect(rejectCode(bare)).toMatch(/^unsigned: /)
  })

  it('refuses malformed manifests naming the field: paths that escape, secrets, duplicates, bounds', () => {
    const withFile = (path: string) => ({
      ...signed,
      files: [{ path, bytes: 1, sha256: 'a'.repeat(64), immutable: false }],
    })
    expect(rejectCode('{not json')).toMatch(/^malformed: the checkpoint manifest is not JSON/)
    expect(rejectCode(withFile('../config/node_key.json'))).toMatch(
      /^malformed: .*files\.0\.path: expected a relative path/,
    )
    expect(rejectCode(withFile('/etc/passwd'))).toMatch(/files\.0\.path/)
    expect(rejectCode(withFile('blockstore.db//x'))).toMatch(/files\.0\.path/)
    expect(rejectCode(withFile('priv_validator_state.json'))).toMatch(
      /files\.0\.path: names a file a node must never share/,
    )
    expect(rejectCode(withFile('config/priv_validator_key.json'))).toMatch(/must never share/)
    expect(rejectCode({ ...signed, files: [signed.files[0], signed.files[0]] })).toMatch(
      /files\.1\.path: .* is listed twice/,
    )
    expect(rejectCode({ ...signed, files: [] })).toMatch(/^malformed: .*files/)
    expect(rejectCode({ ...signed, blockStore: { base: 2600, height: 2500 } })).toMatch(
      /blockStore: base is above height/,
    )
    expect(rejectCode({ ...signed, chainId: 'x'.repeat(51) })).toMatch(/chainId/)
    expect(rejectCode({ ...signed, files: [{ ...signed.files[0], bytes: -1 }] })).toMatch(/files\.0\.bytes/)
    expect(rejectCode({ ...signed, donor: 'a b' })).toMatch(/donor: expected a sidecar id/)
    expect(rejectCode({ ...signed, signature: 'zz' })).toMatch(/^malformed: .*signature/)
    // Signing refuses the same things: a donor cannot produce such a manifest by mistake.
    expect(() =>
      signManifest(
        {
          ...unsigned(),
          files: [{ path: 'node_key.json', bytes: 1, sha256: 'a'.repeat(64), immutable: false }],
        },
        key,
      ),
    ).toThrow()
  })
})
