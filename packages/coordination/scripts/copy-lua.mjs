// tsc copies only .ts output: the Lua scripts are read at run time from dist/commands, so copy them there.
import { cpSync } from 'node:fs'

cpSync(new URL('../src/commands/', import.meta.url), new URL('../dist/commands/', import.meta.url), {
  recursive: true,
  filter: (source) => !source.endsWith('.ts'),
})
