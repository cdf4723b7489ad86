#!/usr/bin/env node
// `npm run bench [-- NAME-FILTER]`: runs every `*.bench.mjs` under packages/*/bench and apps/*/bench, one at a
// time (benchmarks must not compete for the 2 cores), after `turbo run build`. Each benchmark measures its own
// baseline in the same run and prints figures as ratios against it; targets are printed, never asserted.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const filter = process.argv[2] ?? ''
const benches = []
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(root, group))) {
    const dir = path.join(root, group, name, 'bench')
    if (!existsSync(dir)) continue
    for (const file of readdirSync(dir).sort()) {
      if (file.endsWith('.bench.mjs')) benches.push(path.join(dir, file))
    }
  }
}
const selected = benches.filter((b) => path.relative(root, b).includes(filter))
if (selected.length === 0) {
  console.error(
    `no benchmark matches "${filter}"; available:\n${benches.map((b) => '  ' + path.relative(root, b)).join('\n')}`,
  )
  process.exit(1)
}
let failed = 0
for (const bench of selected) {
  const rel = path.relative(root, bench)
  console.log(`\n=== ${rel} ===`)
  const started = Date.now()
  const result = spawnSync(process.execPath, ['--expose-gc', bench], {
    stdio: 'inherit',
    cwd: path.dirname(bench),
  })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (result.status !== 0) {
    failed++
    console.log(`--- ${rel}: FAILED (exit ${result.status ?? result.signal}) after ${seconds} s`)
  } else {
    console.log(`--- ${rel}: done in ${seconds} s`)
  }
}
process.exit(failed === 0 ? 0 : 1)
