import { LuaScript } from './lua-script.js'

/** Every Lua script of the protocol, loaded once. See the headers of the `.lua` files for KEYS and ARGV. */
export const scripts = Object.freeze({
  acquireLeader: LuaScript.load('acquireLeader-2.lua'),
  renewLeader: LuaScript.load('renewLeader-1.lua'),
  releaseLeader: LuaScript.load('releaseLeader-1.lua'),
  /** Single Redis / Sentinel: fenced by the leader epoch and the stored token. */
  writeDesiredFenced: LuaScript.load('writeDesired-2.lua'),
  /** Cluster: fenced by the stored token only (the epoch counter is in another slot). */
  writeDesiredSlotLocal: LuaScript.load('writeDesired-1.lua'),
  writePoolProgress: LuaScript.load('writePoolProgress-1.lua'),
})
