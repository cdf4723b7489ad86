import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { RedisClient } from './connection.js'

const COMMANDS_DIR = new URL('./commands/', import.meta.url)
const FILE_NAME = /^([A-Za-z]+)-([0-9]+)\.lua$/
const INCLUDE = /^-- @include ([A-Za-z]+)$/gm

/**
 * An atomic Redis operation written in Lua, loaded from `commands/<command>-<numKeys>.lua` (BullMQ's naming: the
 * number of keys is part of the file name, so a call with the wrong number of keys is caught before Redis sees
 * it). `-- @include <name>` lines pull in `commands/includes/<name>.lua`.
 *
 * Runs with EVALSHA and falls back to EVAL when Redis does not know the script yet (after a restart or a
 * failover), which works the same on a single Redis and on Cluster, where ioredis routes by the first key.
 */
export class LuaScript {
  readonly command: string
  readonly numberOfKeys: number
  readonly source: string
  readonly sha1: string

  constructor(
    readonly fileName: string,
    source: string,
  ) {
    const match = FILE_NAME.exec(fileName)
    if (!match) throw new TypeError(`Lua script name ${fileName} does not follow <command>-<numKeys>.lua`)
    this.command = match[1]!
    this.numberOfKeys = Number(match[2])
    this.source = source
    this.sha1 = createHash('sha1').update(source).digest('hex')
  }

  /** Reads `commands/<fileName>` next to this module (copied to `dist/commands` by the build), with includes. */
  static load(fileName: string): LuaScript {
    const read = (path: string) => readFileSync(new URL(path, COMMANDS_DIR), 'utf8')
    const source = read(fileName).replace(INCLUDE, (_line, name: string) => read(`includes/${name}.lua`))
    return new LuaScript(fileName, source)
  }

  /** Runs the script with `keys` (exactly {@link numberOfKeys} of them) and `args`. */
  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) {
      throw new TypeError(`${this.fileName} takes ${this.numberOfKeys} keys, got ${keys.length}`)
    }
    try {
      return await redis.evalsha(this.sha1, this.numberOfKeys, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await redis.eval(this.source, this.numberOfKeys, ...keys, ...args)
    }
  }
}
