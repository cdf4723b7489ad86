import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import protobuf from 'protobufjs'

export const FIXTURE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'store')

/** Deep-converts byte arrays (Buffer or Uint8Array) to hex strings so structures compare regardless of class. */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return `0x${Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex')}`
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
}

/** Every key → value of a LevelDB directory (keys as latin1 strings). Opens and closes the database. */
export async function dumpDb(location: string): Promise<Map<string, Buffer>> {
  const db = new ClassicLevel<Buffer, Buffer>(location, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  await db.open()
  try {
    const out = new Map<string, Buffer>()
    for await (const [k, v] of db.iterator()) out.set(k.toString('latin1'), v)
    return out
  } finally {
    await db.close()
  }
}

/** The fixture .proto files (copied CometBFT field definitions) loaded into protobufjs. */
export async function loadFixtureProtos(): Promise<protobuf.Root> {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/') ? target : path.join(FIXTURE_DIR, target)
  await root.load(
    [
      'tendermint/types/block.proto',
      'tendermint/types/validator.proto',
      'tendermint/state/types.proto',
      'tendermint/store/types.proto',
    ],
    { keepCase: true },
  )
  return root
}

/** Decodes with protobufjs into a plain object: int64 as numbers, bytes as hex, enums as numbers. */
export function pbDecode(root: protobuf.Root, type: string, bytes: Uint8Array): Record<string, unknown> {
  const t = root.lookupType(type)
  const msg = t.decode(bytes)
  return t.toObject(msg, {
    longs: Number,
    bytes: String,
    enums: Number,
    defaults: false,
    oneofs: true,
  }) as Record<string, unknown>
}

export function b64ToHex(b64: unknown): string {
  return Buffer.from(String(b64), 'base64').toString('hex')
}
