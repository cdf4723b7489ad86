#!/usr/bin/env node
// Committed rather than built, so that `npm ci` can link it before anything is built; the program is ../dist.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/cli.js', import.meta.url)
if (existsSync(entry)) {
  await import(entry.href)
} else {
  const repo = fileURLToPath(new URL('../../..', import.meta.url))
  process.stderr.write(
    `ghostfleet is not built yet: run \`npm run build\` in ${repo} first (${fileURLToPath(entry)} is missing)\n`,
  )
  process.exitCode = 1
}
