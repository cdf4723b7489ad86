import { mkdir, readFile } from 'node:fs/promises'
import { writeFileAtomic } from '@ghostfleet/cometbft'
import { REDIS_URL_ENV } from '@ghostfleet/coordination'
import {
  ConfigError,
  parseWith,
  type SidecarConfig,
  type SidecarConfigInput,
  sidecarConfigSchema,
  ValidationError,
} from '@ghostfleet/core'
import { parse as parseToml, stringify, TomlError } from 'smol-toml'
import { configFilePath } from './config-dir.js'

/** No config file yet: the operator has to run `init` first. */
export class ConfigNotFoundError extends ConfigError {
  override readonly name = 'ConfigNotFoundError'
  constructor(readonly file: string) {
    super(
      `${file} does not exist. Create it with \`ghostfleet sidecar init --binary … --home … --pool-id …\` ` +
        '(or `init --from-supervysor ~/.supervysor/config.toml`), or point --config at the right directory.',
    )
  }
}

/**
 * Reads and validates `<configDir>/config.toml`, with `GHOSTFLEET_REDIS_URL` from `env` in place of
 * `fleet.redisUrl` (a secret may stay out of the file). Every problem is reported with its key and value
 * ({@link ValidationError}); nothing is defaulted silently except what the schema documents.
 *
 * @throws {@link ConfigNotFoundError} | {@link ValidationError}
 */
export async function loadSidecarConfig(
  configDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ file: string; config: SidecarConfig }> {
  const file = configFilePath(configDir)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigNotFoundError(file)
    throw new ValidationError(file, [`cannot read the file: ${(error as Error).message}`])
  }
  let table: Record<string, unknown>
  try {
    table = parseToml(text)
  } catch (error) {
    const where = error instanceof TomlError ? `line ${error.line}, column ${error.column}: ` : ''
    throw new ValidationError(file, [`${where}not valid TOML (${(error as Error).message.split('\n')[0]})`])
  }
  const redisUrl = env[REDIS_URL_ENV]?.trim()
  if (redisUrl) {
    const fleet = typeof table['fleet'] === 'object' && table['fleet'] !== null ? table['fleet'] : {}
    table = { ...table, fleet: { ...fleet, redisUrl } }
  }
  return { file, config: parseWith(sidecarConfigSchema, table, file) }
}

const HEADER = `# ghostfleet sidecar configuration, written by \`ghostfleet sidecar init\`.
# Every key is documented in apps/sidecar/README.md ("Config file reference"). Edit freely; the sidecar
# validates the whole file at start and names every key it rejects. Unknown keys are errors.
`

/** Renders a config as TOML (validated first: an invalid config is never written). */
export function renderSidecarConfig(config: SidecarConfigInput, file: string): string {
  const valid = parseWith(sidecarConfigSchema, config, file)
  return `${HEADER}\n${stringify(valid)}\n`
}

/** Writes the config atomically (readable by its owner only: it may hold a Redis URL). */
export async function writeSidecarConfig(configDir: string, config: SidecarConfigInput): Promise<string> {
  const file = configFilePath(configDir)
  const text = renderSidecarConfig(config, file)
  await mkdir(configDir, { recursive: true })
  await writeFileAtomic(file, text, { mode: 0o600 })
  return file
}
