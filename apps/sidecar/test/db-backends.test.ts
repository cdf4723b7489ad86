import { chmod, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { eventually, freePort, metricValue, nodeStatus, SIMNODE_CLI, testConfig } from '@ghostfleet/testkit'
import { parse } from 'smol-toml'
import { afterEach, describe, expect, it } from 'vitest'
import { sidecarCli } from './helpers/cli.js'
import { SimNet } from './helpers/simnet.js'

/*
 * Nodes whose config.toml names a db_backend other than goleveldb (newer Cosmos chains often use pebbledb):
 * `init` refuses them by name unless told to run without offline pruning (--no-pruning); `start` runs ghost mode
 * and mode switching for them with pruning off, and says why in /status and in a metric — also when the backend
 * was changed after init (the config still says pruning.enabled = true).
 *
 * The simulated node keeps its stores in LevelDB whatever config.toml says and refuses other backends, so the
 * node binary here is a wrapper that starts the simulated node on a view of the home whose config.toml says
 * goleveldb: every other config file and the data directory are symlinks to the real ones, so the sidecar and
 * the node share the address book, the databases and their locks exactly as with a real pebbledb node.
 */

let net: SimNet | undefined
afterEach(async () => {
  await net?.cleanup()
  net = undefined
})

async function setBackend(home: string, backend: string): Promise<void> {
  const file = path.join(home, 'config', 'config.toml')
  const text = await readFile(file, 'utf8')
  expect(text).toMatch(/^db_backend = "goleveldb"$/m)
  await writeFile(file, text.replace(/^db_backend = "goleveldb"$/m, `db_backend = "${backend}"`))
}

/** A node binary that runs the simulated node for a home whose config.toml names another backend. */
async function otherBackendBinary(dir: string): Promise<string> {
  const file = path.join(dir, 'other-backend-node')
  await writeFile(
    file,
    `#!/bin/sh
home=""; prev=""
for a in "$@"; do
  case "$a" in --home=*) home="\${a#--home=}";; esac
  if [ "$prev" = "--home" ]; then home="$a"; fi
  prev="$a"
done
view="$(dirname "$home")/.$(basename "$home")-goleveldb-view"
rm -rf "$view/config" && mkdir -p "$view/config"
for f in "$home"/config/*; do
  n=$(basename "$f")
  if [ "$n" = config.toml ]; then
    sed 's/^db_backend = .*/db_backend = "goleveldb"/' "$f" > "$view/config/config.toml"
  else
    ln -s "$f" "$view/config/$n"
  fi
done
[ -e "$view/data" ] || ln -s "$home/data" "$view/data"
n=$#; prev=""
for a in "$@"; do
  b="$a"
  if [ "$prev" = "--home" ]; then b="$view"; fi
  case "$a" in --home=*) b="--home=$view";; esac
  set -- "$@" "$b"
  prev="$a"
done
shift $n
exec "${process.execPath}" "${SIMNODE_CLI}" "$@"
`,
  )
  await chmod(file, 0o755)
  return file
}

describe('init with a db_backend other than goleveldb', () => {
  it('refuses pebbledb and rocksdb by name and says how to go on; --no-pruning writes pruning.enabled = false', async () => {
    net = await SimNet.create('gf-backend-init-')
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '1000', maxBundleSize: 100, uploadInterval: 60 }],
    })
    const binary = await net.nodeBinary()
    for (const backend of ['pebbledb', 'rocksdb']) {
      const { home } = await net.initHome(`home-${backend}`)
      await setBackend(home, backend)
      const appToml = await readFile(path.join(home, 'config', 'app.toml'), 'utf8')
      const configDir = net.path(`cfg-${backend}`)
      const args = ['init', '--binary', binary, '--home', home, '--pool-id', '1']
      const common = ['--fallback-endpoints', kyve.url, '--config', configDir]
      const refused = await sidecarCli([...args, ...common])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(`db_backend = "${backend}"`)
      expect(refused.stderr).toMatch(/re-run init with --no-pruning/)
      expect(refused.stderr).toMatch(/Nothing was written/)
      expect(await readFile(path.join(home, 'config', 'app.toml'), 'utf8')).toBe(appToml)
      await expect(readFile(path.join(configDir, 'config.toml'))).rejects.toThrow()

      const accepted = await sidecarCli([...args, '--no-pruning', ...common])
      expect(accepted.stderr).toBe('')
      expect(accepted.code).toBe(0)
      const written = parse(await readFile(path.join(configDir, 'config.toml'), 'utf8')) as {
        pruning: { enabled: boolean }
      }
      expect(written.pruning.enabled).toBe(false)
      const status = await sidecarCli(['status', '--config', configDir])
      expect(status.stdout).toMatch(
        new RegExp(
          `^next prune {3}pruning off: pruning.enabled = false .*db_backend "${backend}" cannot be pruned`,
          'm',
        ),
      )
    }
    const help = await sidecarCli(['init', '--help'])
    expect(help.stdout).toMatch(/--no-pruning\s+run ghost mode and mode switching without offline\s+pruning/)
  }, 120_000)
})

describe('start with a db_backend other than goleveldb', () => {
  it('runs ghost mode and mode switching with pruning off, saying why in /status, a metric and one log line', async () => {
    net = await SimNet.create('gf-backend-start-')
    const producer = await net.startProducer(100)
    const follower = await net.follower(producer)
    // The backend changed after init: the sidecar config still asks for pruning.
    await setBackend(follower.home, 'pebbledb')
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    const httpPort = await freePort()
    const configDir = net.path('sidecar')
    await net.writeConfig(
      configDir,
      testConfig({
        binary: await otherBackendBinary(net.path()),
        follower,
        kyveUrl: kyve.url,
        httpPort,
        pruningEnabled: true,
      }),
    )
    const sidecar = net.startSidecar(configDir, httpPort)
    // Far ahead of the pool: ghost mode, with pruning off (a prune would be due every 1.8 s otherwise).
    const ghost = await eventually(
      async () => {
        const status = await sidecar.status()
        expect(status['mode']).toBe('ghost')
        expect(status['node'].reachable).toBe(true)
        return status
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'ghost mode' },
    )
    expect(ghost['pruning'].enabled).toBe(false)
    expect(ghost['pruning'].reason).toBe(
      'db_backend "pebbledb" cannot be pruned offline by ghostfleet (only goleveldb can)',
    )
    const metrics = await sidecar.metrics()
    expect(metricValue(metrics, 'ghostfleet_pruning_enabled', { reason: 'unsupported_db_backend' })).toBe(0)
    const status = await sidecarCli(['status', '--config', configDir])
    expect(status.stdout).toMatch(
      /^next prune {3}pruning off: db_backend "pebbledb" cannot be pruned offline/m,
    )

    // The pool catches up: normal again, and the node syncs on.
    const frozen = ghost['node'].height as number
    await kyve.setPool(1, { currentKey: String(frozen - 10) })
    await eventually(
      async () => {
        expect(sidecar.logsMatching(/^now in normal mode/).length).toBeGreaterThanOrEqual(1)
        expect((await nodeStatus(follower.rpcUrl))?.height ?? 0).toBeGreaterThan(frozen + 5)
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'back to normal, syncing' },
    )
    const after = await sidecar.metrics()
    expect(metricValue(after, 'ghostfleet_prunes_total', { outcome: 'ok' })).toBe(0)
    expect(metricValue(after, 'ghostfleet_prunes_total', { outcome: 'failed' })).toBe(0)
    expect(sidecar.logsMatching(/^pruning is off for this run: db_backend "pebbledb"/)).toHaveLength(1)
    expect(sidecar.hasExited()).toBe(false)
  }, 180_000)
})
