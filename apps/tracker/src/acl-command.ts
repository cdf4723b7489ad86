/**
 * `ghostfleet-tracker acl`: prints the `ACL SETUSER` commands that give the tracker, each sidecar and a
 * monitoring user their own Redis user (rules from `@ghostfleet/coordination`'s `acl.ts`, derived from the key
 * layout). Standard output holds only the commands, one a line, ready for `redis-cli`; the password in them is
 * the SHA-256 form (`#…`), so that output can be stored or reviewed. Clear passwords come from a file the
 * operator keeps (`--passwords`) or are generated, and then shown exactly once: on standard error, or written to
 * a new file readable only by its owner (`--write-passwords`). They are never logged.
 */
import { readFile, writeFile } from 'node:fs/promises'
import {
  type AclUserSpec,
  aclSetUserArgs,
  assertKeyPart,
  CoordinationError,
  DEFAULT_NAMESPACE,
  formatRedisCommand,
  generateAclPassword,
  monitorAclUser,
  sidecarAclUser,
  trackerAclUser,
} from '@ghostfleet/coordination'
import { UsageError } from './errors.js'

export interface AclFlags {
  /** Sidecar ids (repeatable flag). */
  sidecar?: string[]
  monitor?: boolean
  /** Leave the tracker's user out (e.g. when adding one sidecar). */
  tracker?: boolean
  namespace?: string
  /** A file of `<user> <password>` lines. */
  passwords?: string
  /** Write generated passwords to this new file (mode 0600) instead of standard error. */
  writePasswords?: string
}

export interface AclPlan {
  /** One `ACL SETUSER …` line per user, passwords hashed. */
  commands: string[]
  /** Passwords generated because the passwords file had none for the user. */
  generated: Array<{ username: string; password: string }>
}

/**
 * The users and their commands. `passwords` maps user names to the operator's passwords; users without one get
 * a generated password.
 * @throws UsageError for a bad sidecar id or namespace, or when no user is asked for.
 */
export function planAclUsers(flags: AclFlags, passwords: ReadonlyMap<string, string>): AclPlan {
  const namespace = flags.namespace ?? DEFAULT_NAMESPACE
  const users: AclUserSpec[] = []
  try {
    if (flags.tracker !== false) users.push(trackerAclUser(namespace))
    const ids = [...new Set(flags.sidecar ?? [])]
    for (const id of ids) users.push(sidecarAclUser(assertKeyPart('sidecar id', id), namespace))
    if (flags.monitor === true) users.push(monitorAclUser(namespace))
  } catch (error) {
    if (error instanceof CoordinationError) throw new UsageError(error.message)
    throw error
  }
  if (users.length === 0)
    throw new UsageError('no user to print: give --sidecar <id>, --monitor, or keep the tracker')
  const generated: AclPlan['generated'] = []
  const commands = users.map((user) => {
    let password = passwords.get(user.username)
    if (password === undefined) {
      password = generateAclPassword()
      generated.push({ username: user.username, password })
    }
    return formatRedisCommand(aclSetUserArgs(user, password))
  })
  return { commands, generated }
}

/**
 * Reads `<user> <password>` lines (`#` comments and blank lines skipped). Problems name the line, never the
 * password on it.
 */
export async function readAclPasswords(file: string): Promise<Map<string, string>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new UsageError(
      `--passwords ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
  const passwords = new Map<string, string>()
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const match = /^(\S+)\s+(\S+)$/.exec(line)
    if (match === null) {
      throw new UsageError(
        `--passwords ${file}:${index + 1}: expected "<user> <password>" (no spaces in either)`,
      )
    }
    const [, username = '', password = ''] = match
    if (passwords.has(username))
      throw new UsageError(`--passwords ${file}:${index + 1}: ${username} is listed twice`)
    passwords.set(username, password)
  })
  return passwords
}

/** Runs the command; resolves with the exit code. */
export async function runAcl(
  flags: AclFlags,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  try {
    const passwords =
      flags.passwords === undefined ? new Map<string, string>() : await readAclPasswords(flags.passwords)
    const plan = planAclUsers(flags, passwords)
    const listing = plan.generated.map(({ username, password }) => `${username} ${password}`).join('\n')
    const toFile = plan.generated.length > 0 && flags.writePasswords !== undefined
    // The file first: if it cannot be written, no commands are printed whose passwords nobody would know.
    // `wx`: never overwrite an existing file (it may hold the passwords in use).
    if (toFile) await writeFile(flags.writePasswords as string, `${listing}\n`, { mode: 0o600, flag: 'wx' })
    io.stdout(`${plan.commands.join('\n')}\n`)
    if (toFile) {
      io.stderr(
        `generated passwords written to ${flags.writePasswords} (mode 0600); they are shown nowhere else\n`,
      )
    } else if (plan.generated.length > 0) {
      io.stderr(
        '# generated passwords, shown once and stored nowhere: keep them now (a sidecar takes its own from\n' +
          `# GHOSTFLEET_REDIS_PASSWORD or a password file; see the operator guide, "Redis ACLs")\n${listing}\n`,
      )
    }
    return 0
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code === 'EEXIST') {
      io.stderr(`ghostfleet tracker acl: ${(error as Error).message}\n`)
      return 2
    }
    throw error
  }
}
