import { NODE_MARKER_ENV } from './process-inspect.js'

/*
 * The environment the chain binary runs with. The sidecar's own environment carries its secrets (the fleet
 * signing key, the Redis URL with its password, the Consul token), and a node's environment is readable through
 * /proc/<pid>/environ by its user, copied into crash dumps and support bundles, and inherited by whatever the node
 * runs (cosmovisor's upgrade scripts). None of it is the node's business.
 *
 * The rule, in this one place: the node gets the sidecar's environment minus every `GHOSTFLEET_*` variable, plus
 * its launch spec's variables, of which only the marker `GHOSTFLEET_SIDECAR_CONFIG` may carry the prefix (the
 * orphan finder of the next sidecar needs it, see process-inspect.ts). A prefix rule rather than a list, so a
 * secret added later cannot be forgotten here; `SECRET_ENV_VARS` names the ones known today, for documentation and
 * tests.
 */

/** The prefix of every variable Ghostfleet reads; none of them reaches the node except the marker. */
export const GHOSTFLEET_ENV_PREFIX = 'GHOSTFLEET_'

/** The secrets known today (all covered by the prefix rule). */
export const SECRET_ENV_VARS = [
  'GHOSTFLEET_FLEET_KEY',
  'GHOSTFLEET_REDIS_URL',
  'GHOSTFLEET_CONSUL_TOKEN',
] as const

/** The node's environment: `parent` without Ghostfleet's variables, plus `launch` (see the module comment). */
export function nodeEnvironment(
  parent: NodeJS.ProcessEnv,
  launch: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && !name.startsWith(GHOSTFLEET_ENV_PREFIX)) env[name] = value
  }
  for (const [name, value] of Object.entries(launch)) {
    if (!name.startsWith(GHOSTFLEET_ENV_PREFIX) || name === NODE_MARKER_ENV) env[name] = value
  }
  return env
}
