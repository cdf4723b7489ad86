/**
 * `@ghostfleet/cli`: the `ghostfleet` executable, a thin dispatcher. Each subcommand is an app's own command
 * line (`@ghostfleet/sidecar/cli`, `@ghostfleet/tracker/cli`, `@ghostfleet/devnet/cli`), loaded when it runs;
 * the old executable names are aliases.
 *
 * @example
 * ```ts
 * import { dispatch } from '@ghostfleet/cli'
 *
 * process.exitCode = await dispatch(['sidecar', 'status', '--json']) // same as `ghostfleet sidecar status --json`
 * ```
 */
export { aliasOf, type DispatchOutput, dispatch, dispatchAlias, helpText, USAGE_EXIT } from './dispatch.js'
export { ALIASES, type AliasName, SUBCOMMANDS, type Subcommand, type SubcommandName } from './subcommands.js'
export { GHOSTFLEET_VERSION } from './version.js'
