import { readFileSync } from 'node:fs'
import type { RedisClient } from './connection.js'

const COMMANDS_DIR = new URL('./commands/', import.meta.url)
const FILE_NAME = /^([A-Za-z]+)-([0-9]+)\.lua$/
const INCLUDE = /^-- @include ([A-Za-z]+)$/gm

type ScriptCommand = (...keysAndArgs: (string | number)[]) => Promise<unknown>

/**
 * An atomic Redis operation written in Lua, loaded from `commands/<command>-<numKeys>.lua` (BullMQ's naming: the
 * number of keys is part of the file name, so a call with the wrong number of keys is caught before Redis sees
 * it). `-- @include <name>` lines pull in `commands/includes/<name>.lua`.
 *
 * Runs as an ioredis custom command (`defineCommand`), which sends EVALSHA and falls back to EVAL when Redis does
 * not know the script yet (after a restart or a failover), on a single Redis and on Cluster alike.
 */
export class LuaScript {
  readonly numberOfKeys: number
  /** The name the command is defined under on a client; unique per file (`writeDesired-1` ≠ `writeDesired-2`). */
  private readonly commandName: string
  private readonly definedOn = new WeakSet<RedisClient>()

  constructor(
    readonly fileName: string,
    readonly source: string,
  ) {
    const match = FILE_NAME.exec(fileName)
    if (!match) throw new TypeError(`Lua script name ${fileName} does not follow <command>-<numKeys>.lua`)
    this.numberOfKeys = Number(match[2])
    this.commandName = `ghostfleet_${match[1]}_${this.numberOfKeys}`
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
    if (!this.definedOn.has(redis)) {
      redis.defineCommand(this.commandName, { numberOfKeys: this.numberOfKeys, lua: this.source })
      this.definedOn.add(redis)
    }
    const command = (redis as unknown as Record<string, ScriptCommand>)[this.commandName]!
    return await command.call(redis, ...keys, ...args)
  }
}
