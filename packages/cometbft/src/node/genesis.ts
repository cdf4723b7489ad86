import { open } from 'node:fs/promises'
import { NodeConfigError } from './errors.js'

/*
 * The node's chain id, read offline from its genesis file, so a sidecar can tell which chain a home holds
 * before (and without) starting the node.
 *
 * A genesis file can be hundreds of megabytes (Osmosis' app_state), so it is never parsed whole. CometBFT's
 * GenesisDoc and the Cosmos SDK's AppGenesis both serialise `chain_id` before `app_state` (struct field order:
 * genesis_time, chain_id, …), so the first top-level `"chain_id"` sits within the first few hundred bytes. Only
 * a key at nesting depth 1 counts: a `chain_id` inside `app_state` must never be taken for the node's.
 */

/** How much of the file is read at most; a genesis whose chain_id is not in it is refused, not guessed. */
const HEAD_BYTES = 1 << 20

/** Reads `chain_id` of a genesis file. @throws NodeConfigError when it cannot be read or names no chain id. */
export async function readGenesisChainId(genesisPath: string): Promise<string> {
  let head: string
  try {
    const handle = await open(genesisPath, 'r')
    try {
      const buffer = Buffer.alloc(HEAD_BYTES)
      const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0)
      head = buffer.subarray(0, bytesRead).toString('utf8')
    } finally {
      await handle.close()
    }
  } catch (error) {
    throw new NodeConfigError(
      genesisPath,
      undefined,
      `cannot read the node's genesis file: ${(error as Error).message}`,
    )
  }
  const chainId = topLevelChainId(head)
  if (chainId === null) {
    throw new NodeConfigError(
      genesisPath,
      undefined,
      `no top-level "chain_id" string in the first ${HEAD_BYTES} bytes; is it the node's genesis file?`,
    )
  }
  return chainId
}

/** The value of the first `"chain_id"` key at depth 1 of a (possibly truncated) JSON object text, or null. */
export function topLevelChainId(text: string): string | null {
  let depth = 0
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"') {
      const end = stringEnd(text, i)
      if (end < 0) return null
      if (depth === 1 && text.slice(i, end + 1) === '"chain_id"') {
        const value = /^\s*:\s*"((?:[^"\\]|\\.){1,128})"/.exec(text.slice(end + 1, end + 200))
        if (value?.[1] === undefined) return null
        try {
          return JSON.parse(`"${value[1]}"`) as string
        } catch {
          return null
        }
      }
      i = end + 1
      continue
    }
    if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
    i++
  }
  return null
}

/** Index of the quote closing the string that opens at `start`, or -1 when the text ends first. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return -1
}
