import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto'
import { z } from 'zod'
import { HomeFileError } from './errors.js'
import { parseHomeFile, readHomeFile } from './home-file.js'

// DER prefixes that turn a raw 32-byte Ed25519 seed / public key into PKCS#8 / SPKI for node:crypto.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export const PRIV_KEY_TYPE = 'tendermint/PrivKeyEd25519'
export const PUB_KEY_TYPE = 'tendermint/PubKeyEd25519'

/**
 * An Ed25519 key as CometBFT stores it: the private key is Go's 64-byte form (seed ‖ public key).
 * The address is the first 20 bytes of sha256(public key); the p2p node id is that address in lowercase hex,
 * a validator address the same bytes in uppercase hex.
 */
export class Ed25519Key {
  private readonly privateKey: KeyObject

  private constructor(
    readonly seed: Buffer,
    readonly publicKey: Buffer,
  ) {
    this.privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    })
  }

  static generate(): Ed25519Key {
    return Ed25519Key.fromSeed(randomBytes(32))
  }

  /** Deterministic key from a 32-byte seed (synthetic validators are derived this way). */
  static fromSeed(seed: Buffer): Ed25519Key {
    if (seed.length !== 32) throw new Error(`ed25519 seed must be 32 bytes, got ${seed.length}`)
    const priv = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    })
    const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' })
    return new Ed25519Key(Buffer.from(seed), Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length)))
  }

  /** From Go's 64-byte private key (seed ‖ public key); rejects a key whose halves do not match. */
  static fromGoPrivateKey(bytes: Buffer): Ed25519Key {
    if (bytes.length !== 64) throw new Error(`ed25519 private key must be 64 bytes, got ${bytes.length}`)
    const key = Ed25519Key.fromSeed(bytes.subarray(0, 32))
    if (!key.publicKey.equals(bytes.subarray(32)))
      throw new Error('ed25519 private key: public half does not match')
    return key
  }

  get goPrivateKey(): Buffer {
    return Buffer.concat([this.seed, this.publicKey])
  }

  get address(): Buffer {
    return addressOf(this.publicKey)
  }

  /** The p2p node id: lowercase hex of the address. */
  get nodeId(): string {
    return this.address.toString('hex')
  }

  sign(message: Buffer): Buffer {
    return sign(null, message, this.privateKey)
  }
}

/** First 20 bytes of sha256(pubkey) — CometBFT's `crypto.AddressHash` for Ed25519. */
export function addressOf(publicKey: Buffer): Buffer {
  return createHash('sha256').update(publicKey).digest().subarray(0, 20)
}

/** The node id a public key stands for. */
export function nodeIdOf(publicKey: Buffer): string {
  return addressOf(publicKey).toString('hex')
}

export function verifyEd25519(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  const key = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  })
  return verify(null, message, key, signature)
}

const base64Bytes = (length: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64')
    .transform((s) => Buffer.from(s, 'base64'))
    .refine((b) => b.length === length, `must decode to ${length} bytes`)

const nodeKeySchema = z.object({
  priv_key: z.object({ type: z.literal(PRIV_KEY_TYPE), value: base64Bytes(64) }),
})

const privValidatorKeySchema = z.object({
  address: z.string().regex(/^[0-9A-F]{40}$/, 'not 40 uppercase hex characters'),
  pub_key: z.object({ type: z.literal(PUB_KEY_TYPE), value: base64Bytes(32) }),
  priv_key: z.object({ type: z.literal(PRIV_KEY_TYPE), value: base64Bytes(64) }),
})

/** `config/node_key.json` exactly as CometBFT writes it (`cmtjson.Marshal`, no indentation). */
export function nodeKeyJson(key: Ed25519Key): string {
  return JSON.stringify({ priv_key: { type: PRIV_KEY_TYPE, value: key.goPrivateKey.toString('base64') } })
}

/** `config/priv_validator_key.json` as CometBFT writes it (`cmtjson.MarshalIndent(…, "", "  ")`). */
export function privValidatorKeyJson(key: Ed25519Key): string {
  return JSON.stringify(
    {
      address: key.address.toString('hex').toUpperCase(),
      pub_key: { type: PUB_KEY_TYPE, value: key.publicKey.toString('base64') },
      priv_key: { type: PRIV_KEY_TYPE, value: key.goPrivateKey.toString('base64') },
    },
    null,
    '  ',
  )
}

/** `data/priv_validator_state.json` of a validator that never signed. */
export function initialPrivValidatorStateJson(): string {
  return JSON.stringify({ height: '0', round: 0, step: 0 }, null, '  ')
}

async function readJson(file: string): Promise<unknown> {
  const text = await readHomeFile(file)
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HomeFileError(file, `not valid JSON: ${(error as Error).message}`, { cause: error })
  }
}

/** Loads `node_key.json`; the id is derived from the key, as CometBFT does. */
export async function readNodeKey(file: string): Promise<Ed25519Key> {
  const parsed = parseHomeFile(file, nodeKeySchema, await readJson(file))
  try {
    return Ed25519Key.fromGoPrivateKey(parsed.priv_key.value)
  } catch (error) {
    throw new HomeFileError(file, (error as Error).message, { cause: error })
  }
}

/** Loads `priv_validator_key.json` and checks its address and public key against the private key. */
export async function readPrivValidatorKey(file: string): Promise<Ed25519Key> {
  const parsed = parseHomeFile(file, privValidatorKeySchema, await readJson(file))
  let key: Ed25519Key
  try {
    key = Ed25519Key.fromGoPrivateKey(parsed.priv_key.value)
  } catch (error) {
    throw new HomeFileError(file, (error as Error).message, { cause: error })
  }
  if (!key.publicKey.equals(parsed.pub_key.value))
    throw new HomeFileError(file, 'pub_key does not match priv_key')
  if (key.address.toString('hex').toUpperCase() !== parsed.address) {
    throw new HomeFileError(file, 'address does not match pub_key')
  }
  return key
}
