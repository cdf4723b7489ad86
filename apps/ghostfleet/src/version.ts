import { readFileSync } from 'node:fs'
import { z } from 'zod'

// Read from the app's own package.json (one level above both src/ and dist/), so `--version` never drifts.
const manifest = z
  .object({ version: z.string().min(1) })
  .parse(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')))

/** The release of the `ghostfleet` executable. */
export const GHOSTFLEET_VERSION: string = manifest.version
