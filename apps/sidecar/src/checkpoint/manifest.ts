import { timingSafeEqual } from 'node:crypto'
import { type FleetKey, fleetKeyHmac } from '@ghostfleet/coordination'
import { SIDECAR_ID_PATTERN } from '@ghostfleet/core'
import { z } from 'zod'
import { CheckpointManifestError } from './errors.js'
import { isNeverShared } from './file-rules.js'
import { CHECKPOINT_ID_PATTERN } from './layout.js'

/*
 * The signed description of a checkpoint: every file with its size and sha256, the chain, the block store's
 * heights, the block hashes at both ends and the app hashes. A receiving host trusts a checkpoint only through
 * it: the signature (HMAC-SHA256 under the fleet key, over a canonical JSON with a domain prefix) proves a fleet
 * member made it, the hashes prove each downloaded file is the donor's.
 */

export const MANIFEST_FORMAT = 'ghostfleet-checkpoint'
/** Ties a signature to this message type and version, so no other signed fleet message passes for a manifest. */
const SIGNING_DOMAIN = 'ghostfleet/checkpoint-manifest/v1\n'

/** Bounds: far above any real data directory, low enough that a hostile manifest cannot exhaust memory. */
export const MAX_MANIFEST_FILES = 1_000_000
const MAX_PATH = 1024

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes * 2} lowercase hex digits`)
/** Hashes as CometBFT's RPC prints them (`HexBytes`: uppercase); empty for an app without an app hash. */
const upperHex = z.string().regex(/^([0-9A-F]{2}){0,64}$/, 'expected uppercase hex (at most 64 bytes)')
const height = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)

/** A relative posix path without `.`/`..` segments, empty segments or characters a shell or URL would mangle. */
const relativePath = z
  .string()
  .min(1)
  .max(MAX_PATH)
  .refine(
    (p) =>
      p.split('/').every((segment) => /^[A-Za-z0-9_+=-][A-Za-z0-9._+=-]*$/.test(segment) && segment !== '..'),
    'expected a relative path of plain names (letters, digits, . _ + = -; no "..", no leading dot or slash)',
  )
  .refine(
    (p) => !isNeverShared(p),
    'names a file a node must never share (keys, signing state, address book)',
  )

const fileSchema = z.object({
  path: relativePath,
  bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sha256: hex(32),
  /** A table file: immutable, so a receiver may reuse one it holds from an older checkpoint of this donor. */
  immutable: z.boolean(),
})
export type ManifestFile = z.infer<typeof fileSchema>

const blockRef = z.object({ height, hash: upperHex })

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.literal(1),
    id: z.string().regex(CHECKPOINT_ID_PATTERN, 'expected a checkpoint id like 1500-20261207T064512123Z'),
    /** The sidecar id of the donor. */
    donor: z.string().regex(SIDECAR_ID_PATTERN, 'expected a sidecar id'),
    createdAt: z.iso.datetime(),
    /** CometBFT's limit is 50 characters (types.MaxChainIDLen). */
    chainId: z.string().min(1).max(50),
    blockStore: z.object({ base: height, height }),
    /** The blocks at both ends of the window, as `/block?height=` shows them (`block_id.hash`, `header.app_hash`). */
    blocks: z.object({
      base: blockRef,
      top: blockRef.extend({ appHash: upperHex }),
    }),
    /** The state store: the last height the app executed and the app hash it produced (next block's header). */
    state: z.object({
      lastBlockHeight: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      appHash: upperHex,
    }),
    files: z.array(fileSchema).min(1).max(MAX_MANIFEST_FILES),
    signature: hex(32).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.blockStore.base > m.blockStore.height)
      ctx.addIssue({ code: 'custom', path: ['blockStore'], message: 'base is above height' })
    if (m.blocks.base.height !== m.blockStore.base || m.blocks.top.height !== m.blockStore.height)
      ctx.addIssue({
        code: 'custom',
        path: ['blocks'],
        message: 'the blocks are not at the block store base and height',
      })
    const seen = new Set<string>()
    for (const [index, file] of m.files.entries()) {
      if (seen.has(file.path))
        ctx.addIssue({
          code: 'custom',
          path: ['files', index, 'path'],
          message: `${file.path} is listed twice`,
        })
      seen.add(file.path)
    }
  })
export type CheckpointManifest = z.infer<typeof manifestSchema>
declare const verified: unique symbol
/**
 * A manifest whose signature {@link verifyManifest} checked against the fleet key. The receiving side's functions
 * take only these, so an unverified manifest cannot reach an install by mistake.
 */
export type VerifiedManifest = CheckpointManifest & { readonly [verified]: true }
/** A manifest before signing. */
export type UnsignedManifest = Omit<CheckpointManifest, 'signature'>

/**
 * The signed bytes: the domain, then JSON of every field except `signature` in a fixed key order. Independent of
 * the key order of the object at hand and of extra keys, so signer and verifier always compute the same string.
 */
export function canonicalManifestPayload(m: UnsignedManifest): string {
  const ordered = {
    format: m.format,
    version: m.version,
    id: m.id,
    donor: m.donor,
    createdAt: m.createdAt,
    chainId: m.chainId,
    blockStore: { base: m.blockStore.base, height: m.blockStore.height },
    blocks: {
      base: { height: m.blocks.base.height, hash: m.blocks.base.hash },
      top: { height: m.blocks.top.height, hash: m.blocks.top.hash, appHash: m.blocks.top.appHash },
    },
    state: { lastBlockHeight: m.state.lastBlockHeight, appHash: m.state.appHash },
    files: m.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256, immutable: f.immutable })),
  }
  return SIGNING_DOMAIN + JSON.stringify(ordered)
}

/** The manifest with its signature set. */
export function signManifest(m: UnsignedManifest, key: FleetKey): CheckpointManifest {
  const unsigned = manifestSchema.parse({ ...m, signature: undefined })
  const { signature: _none, ...rest } = unsigned
  return { ...rest, signature: fleetKeyHmac(key, canonicalManifestPayload(rest)).toString('hex') }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? '(manifest)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ')
}

/**
 * Parses and verifies a manifest (the JSON text or the parsed value) against the fleet key.
 *
 * @throws {@link CheckpointManifestError} `malformed` (not JSON, or a field out of bounds: names the field),
 * `unsigned`, or `bad-signature` (altered after signing, or signed with another fleet key).
 */
export function verifyManifest(input: string | unknown, key: FleetKey): VerifiedManifest {
  let value: unknown = input
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input)
    } catch (error) {
      throw new CheckpointManifestError(
        'malformed',
        `the checkpoint manifest is not JSON: ${(error as Error).message}`,
      )
    }
  }
  const parsed = manifestSchema.safeParse(value)
  if (!parsed.success)
    throw new CheckpointManifestError(
      'malformed',
      `the checkpoint manifest is invalid: ${describeIssues(parsed.error)}`,
    )
  const m = parsed.data
  const where = `the checkpoint manifest ${m.id} (donor ${m.donor}, chain ${m.chainId})`
  if (m.signature === undefined)
    throw new CheckpointManifestError(
      'unsigned',
      `${where} carries no signature; only signed manifests are accepted`,
    )
  const expected = fleetKeyHmac(key, canonicalManifestPayload(m))
  const given = Buffer.from(m.signature, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new CheckpointManifestError(
      'bad-signature',
      `${where} is not signed with this fleet's key: it was changed after signing, or made by a host with another ` +
        'fleet key (compare GHOSTFLEET_FLEET_KEY on both hosts). Nothing from it is used.',
    )
  }
  return m as VerifiedManifest
}

/** The manifest as written to disk and served to peers. */
export function formatManifest(m: CheckpointManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`
}
