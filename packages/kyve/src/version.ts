import { readFileSync } from 'node:fs'
import { z } from 'zod'

// Read at load time from the package's own package.json (one level above both src/ and dist/), so the
// User-Agent never drifts from the released version.
const manifest = z
  .object({ version: z.string().min(1) })
  .parse(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')))

/** The version of @ghostfleet/kyve, as in its package.json. */
export const PACKAGE_VERSION: string = manifest.version

/** The default User-Agent of the client: `ghostfleet/<version>`. */
export const DEFAULT_USER_AGENT = `ghostfleet/${PACKAGE_VERSION}`
