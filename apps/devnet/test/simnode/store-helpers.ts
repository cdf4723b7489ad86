import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import protobuf from 'protobufjs'

// The CometBFT v0.37 .proto definitions are kept once, beside the codec's own tests in @ghostfleet/cometbft.
const COMETBFT_PROTOS = fileURLToPath(
  new URL('../../../../packages/cometbft/test/fixtures/store/', import.meta.url),
)

/** Deep-converts byte arrays (Buffer or Uint8Array) to hex strings so structures compare regardless of class. */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return `0x${hex(value)}`
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
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

/** CometBFT's block, validator, state and store messages loaded into protobufjs. */
export async function loadFixtureProtos(): Promise<protobuf.Root> {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : COMETBFT_PROTOS + target)
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
