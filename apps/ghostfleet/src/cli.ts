#!/usr/bin/env node
/**
 * `ghostfleet`: the one executable. `ghostfleet sidecar|tracker|devnet …`; started under an old name
 * (`ghostfleet-sidecar`, `ghostfleet-tracker`, `ghostfleet-devnet`, `ghostfleet-simnode`), it acts as that name.
 * The single executable built by `npm run package` starts here.
 */
import { aliasOf, dispatch, dispatchAlias } from './dispatch.js'

const argv = process.argv.slice(2)
const alias = aliasOf(process.argv0, process.argv[1])
// No top-level await: a bundler may turn this into CommonJS (Node's single executables run CommonJS).
;(alias === undefined ? dispatch(argv) : dispatchAlias(alias, argv)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(
      `ghostfleet: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exitCode = 1
  },
)
