/**
 * Redis ACL users per role, derived from the key layout in `keys.ts` so the rules cannot drift from the keys.
 *
 * Without ACLs every sidecar's credentials could overwrite any key: another sidecar's report or desired state,
 * the leader lease, the epoch counter. With these users:
 *
 * - **tracker**: every Ghostfleet key and channel of its namespace, data commands only (no `@dangerous` or
 *   `@admin`: no `FLUSHALL`, `KEYS`, `CONFIG`, `DEBUG`, `ACL`…). It runs the Lua scripts, so `@scripting`.
 * - **sidecar `<id>`**: each command is bound to exactly the keys it is used on (Redis 7 ACL selectors), so one
 *   sidecar's user can touch nothing of another sidecar or of the tracker:
 *   - its own report hash `gf:{sc:<id>}:report`: `DEL`, `HSET`, `PEXPIRE` (in a `MULTI`), as `publishReport` does;
 *   - the shared `gf:reports` stream: `XADD` only (write-only: it cannot read other sidecars' reports);
 *   - the shared `gf:sidecars` index: `ZADD` only;
 *   - its own desired state `gf:{sc:<id>}:desired` and every pool's progress: `HGETALL` only;
 *   - the leader lease and epoch (`readLeader`, the epoch fence of `readDesiredState`): `GET`, `PTTL` only;
 *   - every sidecar's report hash and the `gf:sidecars` index, read-only (`HGETALL`, `ZRANGE`): `readSiblings`
 *     finds the members of its pool that can serve heights its own node lacks, without a tracker. Reports carry
 *     heights, modes and peer URLs, no secret; writing them stays bound to the owner.
 *   - pub/sub: `SUBSCRIBE` to its own `gf:{sc:<id>}:notify` channel only (no `PUBLISH`).
 * - **monitor**: read-only commands on the namespace's keys, no pub/sub, no writes.
 *
 * What ACLs cannot express: the stream and the index are shared, so a sidecar's user can still add an entry
 * that claims another sidecar's id (the tracker takes the report hashes as the truth after a failover) or raise
 * another id's index score. Desired states are protected by the HMAC fleet key on top of these rules.
 *
 * Passwords are never written into the rules in clear: `#<sha256>` is what `ACL SETUSER` stores anyway, so the
 * printed lines can be kept in a repository or an ACL file without exposing the password.
 *
 * Needs Redis ≥ 7.0 (selectors and `%R~`/`%W~` key permissions).
 */
import { createHash, randomBytes } from 'node:crypto'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { assertKeyPart, DEFAULT_NAMESPACE, keyspace } from './keys.js'

/** The default user names; a sidecar's is {@link SIDECAR_ACL_USER_PREFIX} + its id. */
export const TRACKER_ACL_USER = 'gf-tracker'
export const MONITOR_ACL_USER = 'gf-monitor'
export const SIDECAR_ACL_USER_PREFIX = 'gf-sidecar-'

/** One Redis user: its name and its ACL rules without the password (see {@link aclSetUserArgs}). */
export interface AclUserSpec {
  username: string
  role: 'tracker' | 'sidecar' | 'monitor'
  /** `ACL SETUSER` rules after `reset on <password>`. */
  rules: readonly string[]
}

/**
 * Commands every role needs just to hold a connection the way ioredis opens one. `INFO` (keyless server
 * statistics, no data) is ioredis' ready check: it waits out a Redis still loading its data set, and without it
 * ioredis prints a warning to stderr on every connect.
 */
const CONNECTION_COMMANDS = ['+ping', '+quit', '+select', '+client|setname', '+client|getname', '+info']

/**
 * The tracker: all of the namespace's keys and channels, data commands only. Categories rather than a command
 * list, so a new tracker feature using another data command keeps working; `@dangerous` and `@admin` stay out.
 * `INFO` (flagged dangerous) is added back after `-@dangerous` for ioredis' ready check.
 */
export function trackerAclUser(namespace: string = DEFAULT_NAMESPACE): AclUserSpec {
  const ns = keyspace(namespace).namespace
  return {
    username: TRACKER_ACL_USER,
    role: 'tracker',
    rules: [
      `~${ns}:*`,
      `&${ns}:*`,
      '+@read',
      '+@write',
      '+@keyspace',
      '+@stream',
      '+@hash',
      '+@sortedset',
      '+@string',
      '+@pubsub',
      '+@scripting',
      '+@transaction',
      '+@connection',
      '-@dangerous',
      '-@admin',
      '-function',
      ...CONNECTION_COMMANDS,
    ],
  }
}

/** A sidecar: each command bound to its exact keys with selectors (see the module comment). */
export function sidecarAclUser(sidecarId: string, namespace: string = DEFAULT_NAMESPACE): AclUserSpec {
  const id = assertKeyPart('sidecar id', sidecarId)
  const keys = keyspace(namespace)
  // `*` would widen a pattern; ids and namespaces cannot contain glob characters (assertKeyPart / keyspace),
  // so every pattern below except the pool progress and report ones matches exactly one key.
  const poolProgressPattern = keys.poolProgress('CHAIN', 0).replace('CHAIN:0', '*')
  const reportPattern = keys.report('ID').replace('ID', '*')
  return {
    username: `${SIDECAR_ACL_USER_PREFIX}${id}`,
    role: 'sidecar',
    rules: [
      `&${keys.notify(id)}`,
      '+subscribe',
      '+unsubscribe',
      '+multi',
      '+exec',
      '+discard',
      ...CONNECTION_COMMANDS,
      `~${keys.report(id)}`,
      '+del',
      '+hset',
      '+pexpire',
      `(%W~${keys.reports} +xadd)`,
      `(%W~${keys.sidecars} +zadd)`,
      `(%R~${keys.desired(id)} %R~${poolProgressPattern} %R~${reportPattern} +hgetall)`,
      `(%R~${keys.sidecars} +zrange)`,
      `(%R~${keys.leader} %R~${keys.epoch} +get +pttl)`,
    ],
  }
}

/** Read-only access to the namespace's keys for dashboards and on-call tools: no writes, no pub/sub. */
export function monitorAclUser(namespace: string = DEFAULT_NAMESPACE): AclUserSpec {
  const ns = keyspace(namespace).namespace
  return {
    username: MONITOR_ACL_USER,
    role: 'monitor',
    rules: [`%R~${ns}:*`, '+@read', '-@dangerous', '+scan', ...CONNECTION_COMMANDS],
  }
}

/** A fresh random password: 32 bytes, hex (URL-safe, so it can go into a `redis://` URL unencoded). */
export function generateAclPassword(): string {
  return randomBytes(32).toString('hex')
}

/** The `#<sha256 hex>` form `ACL SETUSER` accepts, so the clear password is not in the command. */
export function aclPasswordHash(password: string): string {
  return `#${createHash('sha256').update(password, 'utf8').digest('hex')}`
}

/**
 * The arguments of `ACL SETUSER` for `user` with `password`: `reset` first, so running the command again
 * replaces the user's rules instead of adding to them.
 * @throws InvalidOptionsError for an empty password.
 */
export function aclSetUserArgs(user: AclUserSpec, password: string): string[] {
  if (password.length === 0)
    throw new InvalidOptionsError('ACL user', [`${user.username}: the password is empty`])
  return ['ACL', 'SETUSER', user.username, 'reset', 'on', aclPasswordHash(password), ...user.rules]
}

/**
 * `args` as one line for `redis-cli` (which splits on spaces and understands double quotes): arguments with
 * spaces or parentheses are quoted.
 */
export function formatRedisCommand(args: readonly string[]): string {
  return args.map((arg) => (/^[^\s"'()\\]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ')
}
