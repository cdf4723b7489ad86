import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FLEET_KEY_ENV, REDIS_URL_ENV } from '@ghostfleet/coordination'
import { type SidecarConfigInput, sidecarConfigSchema } from '@ghostfleet/core'
import { FileDiscoverer, GHOSTFLEET_SERVICES, parseTargetTags } from '@ghostfleet/discovery'
import {
  eventually,
  freePort,
  getJson,
  runProcess,
  startProcess,
  startRedis,
  type TempDir,
  type TestProcess,
  type TestRedis,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CLIS,
  type CliCall,
  type ComposeService,
  callFlags,
  cliCallsInShell,
  hostPathOf,
  knownFlags,
  readCompose,
  readDockerfile,
  readUnit,
  shellBlocks,
  stageChain,
  systemdVerify,
  timespanSeconds,
  unitValue,
  unitValues,
} from './deploy-kit.js'
import {
  asArray,
  asObject,
  asString,
  DASHBOARD_DIR,
  OPERATOR_GUIDE,
  PROMETHEUS_CONFIG,
  PROMETHEUS_DIR,
  REPO,
  readYaml,
  repoPath,
  requireTool,
} from './observability-kit.js'

/*
 * The deployment files checked without a Docker engine: docker/compose.yml and docker/Dockerfile are parsed and
 * every service, image, build target, port, mount and config file they name must exist and agree; the systemd
 * units pass `systemd-analyze verify`; every Ghostfleet command line in them and in docs/operator-guide.md uses
 * only flags the real CLIs accept; and the demo services are run on this host exactly as compose runs them
 * (same scripts, same arguments, container host names mapped to loopback ports) until their health checks pass.
 */

const DOCKERFILE = repoPath('docker', 'Dockerfile')
const SIDECAR_UNIT = repoPath('deploy', 'systemd', 'ghostfleet-sidecar.service')
const TRACKER_UNIT = repoPath('deploy', 'systemd', 'ghostfleet-tracker.service')
const UPSTREAM = ['redis', 'consul', 'prometheus', 'grafana']
const OURS = ['chain', 'kyve', 'tracker', 'tracker-standby', 'sidecar-a', 'sidecar-b']

const { services } = readCompose()
const service = (name: string): ComposeService => {
  const found = services.find((s) => s.name === name)
  if (found === undefined) throw new Error(`compose.yml has no service "${name}"`)
  return found
}
const stages = readDockerfile(DOCKERFILE)

/** The command line a container of `svc` runs: compose entrypoint/command over the image's ENTRYPOINT/CMD. */
function containerCommand(svc: ComposeService): string[] {
  const chain = svc.build?.target === undefined ? [] : stageChain(stages, svc.build.target)
  const last = (keyword: string): string[] => {
    for (const stage of chain) {
      const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1)
      if (found !== undefined) return JSON.parse(found.args) as string[]
    }
    return []
  }
  const entrypoint = svc.entrypoint.length > 0 ? svc.entrypoint : last('ENTRYPOINT')
  const command = svc.command.length > 0 || svc.entrypoint.length > 0 ? svc.command : last('CMD')
  return [...entrypoint, ...command]
}

describe('docker/compose.yml', () => {
  it('runs the whole fleet: redis, consul, prometheus, grafana, the chain, KYVE, trackers, two sidecars', () => {
    expect(services.map((s) => s.name).sort()).toEqual([...UPSTREAM, ...OURS].sort())
    for (const name of UPSTREAM) {
      const image = service(name).image ?? ''
      // Pinned, so `up` next month runs what was checked today.
      expect(image, name).toMatch(/^[a-z0-9/._-]+:v?[0-9][A-Za-z0-9._-]*$/)
      expect(service(name).build, name).toBeUndefined()
    }
  })

  it('builds our images from stages of docker/Dockerfile, from the repository root', () => {
    const targets = new Set(stages.map((s) => s.name))
    for (const name of OURS) {
      const build = service(name).build
      expect(build, name).toBeDefined()
      expect(build?.context, name).toBe(path.resolve(REPO))
      expect(path.resolve(build?.context ?? '', build?.dockerfile ?? ''), name).toBe(DOCKERFILE)
      expect(targets, `${name}: target ${build?.target}`).toContain(build?.target)
    }
    expect(service('tracker').build?.target).toBe('tracker')
    for (const name of ['chain', 'kyve', 'sidecar-a', 'sidecar-b'])
      expect(service(name).build?.target).toBe('devnet')
  })

  it('mounts files and directories that exist, where the programs read them', async () => {
    for (const svc of services) {
      for (const volume of svc.volumes.filter((v) => v.bind)) {
        expect(existsSync(volume.source), `${svc.name}: ${volume.source}`).toBe(true)
        expect(volume.readOnly, `${svc.name}: ${volume.target} should be read-only`).toBe(true)
      }
    }
    // Prometheus reads the production config, and finds its rule files and file_sd targets next to it.
    const prometheus = service('prometheus')
    const configFlag = prometheus.command.find((c) => c.startsWith('--config.file='))?.split('=')[1] ?? ''
    expect(hostPathOf(prometheus, configFlag)).toBe(PROMETHEUS_CONFIG)
    expect(hostPathOf(prometheus, path.posix.dirname(configFlag))).toBe(PROMETHEUS_DIR)
    // Grafana: provisioning where Grafana looks, and the dashboards where the provider says they are.
    const grafana = service('grafana')
    const provisioning = hostPathOf(grafana, '/etc/grafana/provisioning') ?? ''
    expect(existsSync(path.join(provisioning, 'datasources'))).toBe(true)
    const providers = asObject(readYaml(path.join(provisioning, 'dashboards', 'ghostfleet.yml')), 'provider')
    for (const provider of asArray(providers['providers'], 'providers')) {
      const dir = asString(
        asObject(asObject(provider, 'provider')['options'], 'options')['path'],
        'options.path',
      )
      expect(hostPathOf(grafana, dir)).toBe(DASHBOARD_DIR)
    }
    const home = hostPathOf(grafana, grafana.environment['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'] ?? '')
    expect(home !== undefined && existsSync(home), `home dashboard ${home}`).toBe(true)
    // The trackers read the mounted config.
    for (const name of ['tracker', 'tracker-standby']) {
      const cmd = containerCommand(service(name))
      const file = cmd[cmd.indexOf('--config') + 1] ?? ''
      const host = hostPathOf(service(name), file)
      expect(host !== undefined && statSync(host).isFile(), `${name}: ${file}`).toBe(true)
    }
    // Every named volume is declared.
    const declared = Object.keys(asObject(readCompose().raw['volumes'] ?? {}, 'volumes'))
    for (const svc of services) {
      for (const volume of svc.volumes.filter((v) => !v.bind))
        expect(declared, svc.name).toContain(volume.source)
    }
  })

  it('points every address at a service that listens there', async () => {
    // Prometheus → Consul agent (HTTP API on 8500 in -dev mode).
    const prom = asObject(readYaml(PROMETHEUS_CONFIG), 'prometheus.yml')
    for (const job of asArray(prom['scrape_configs'], 'scrape_configs')) {
      for (const sd of asArray(asObject(job, 'job')['consul_sd_configs'] ?? [], 'consul_sd')) {
        expect(asString(asObject(sd, 'consul_sd')['server'], 'server')).toBe('consul:8500')
      }
    }
    expect(service('consul').command).toEqual(expect.arrayContaining(['agent', '-dev', '-client=0.0.0.0']))
    // Grafana → Prometheus (9090 by default).
    const ds = asObject(
      readYaml(path.join(REPO, 'docker/grafana/provisioning/datasources/prometheus.yml')),
      'ds',
    )
    const datasource = asObject(asArray(ds['datasources'], 'datasources')[0], 'datasource')
    expect(datasource['url']).toBe('http://prometheus:9090')
    expect(service('prometheus').ports).toContainEqual({ host: 9090, container: 9090 })
    // Redis for the apps, the KYVE API for the sidecars and the tracker.
    for (const name of ['tracker', 'tracker-standby', 'sidecar-a', 'sidecar-b']) {
      expect(service(name).environment['GHOSTFLEET_REDIS_URL'], name).toBe('redis://redis:6379')
    }
    const kyveListen = containerCommand(service('kyve')).find((a) => a.startsWith('--listen='))
    expect(kyveListen).toBe('--listen=0.0.0.0:1317')
    for (const name of ['sidecar-a', 'sidecar-b'])
      expect(service(name).environment['KYVE_API']).toBe('http://kyve:1317')
    const trackerToml = await readFile(repoPath('docker', 'tracker', 'tracker.toml'), 'utf8')
    expect(trackerToml).toMatch(/^"kyve-1" = \["http:\/\/kyve:1317"\]$/m)
    expect(containerCommand(service('kyve'))).toContain('--chain-rpc=http://chain:26657')
    // Published ports are the ones the programs listen on.
    expect(containerCommand(service('tracker')).join(' ')).toContain('--listen 0.0.0.0:26680')
    expect(service('tracker').ports).toContainEqual({ host: 26680, container: 26680 })
    expect(service('sidecar-a').ports).toContainEqual({ host: 26670, container: 26670 })
  })

  it('gives the sidecars more time to stop than their nodes get', () => {
    for (const name of ['sidecar-a', 'sidecar-b']) {
      const grace = String(service(name).raw['stop_grace_period'] ?? '10s')
      const seconds = /^(\d+)m$/.test(grace) ? Number(grace.slice(0, -1)) * 60 : Number.parseFloat(grace)
      // node.stopGraceSeconds defaults to 60 (packages/core sidecarConfigSchema; checked for the unit below).
      expect(seconds, name).toBeGreaterThan(60)
    }
  })

  it('gives every service of ours a health check on a real route of the port it serves', () => {
    const routes: Record<string, RegExp> = {
      chain: /^http:\/\/127\.0\.0\.1:26657\/status$/,
      kyve: /^http:\/\/127\.0\.0\.1:1317\/kyve\/query\/v1beta1\/pool\/1$/,
      tracker: /^http:\/\/127\.0\.0\.1:26680\/livez$/,
      'tracker-standby': /^http:\/\/127\.0\.0\.1:26680\/livez$/,
      'sidecar-a': /^http:\/\/127\.0\.0\.1:26670\/livez$/,
      'sidecar-b': /^http:\/\/127\.0\.0\.1:26670\/livez$/,
    }
    for (const name of OURS) {
      const chain = stageChain(stages, service(name).build?.target ?? '')
      expect(
        chain.some((s) => s.instructions.some((i) => i.keyword === 'HEALTHCHECK')),
        name,
      ).toBe(true)
      expect(service(name).environment['GHOSTFLEET_HEALTH_URL'], name).toMatch(routes[name] as RegExp)
    }
    // depends_on: existing services; service_healthy only on services that have a health check.
    for (const svc of services) {
      for (const [dep, condition] of Object.entries(svc.dependsOn)) {
        const target = service(dep)
        if (condition !== 'service_healthy') continue
        const hasCheck =
          target.raw['healthcheck'] !== undefined ||
          stageChain(stages, target.build?.target ?? '').some((s) =>
            s.instructions.some((i) => i.keyword === 'HEALTHCHECK'),
          )
        expect(hasCheck, `${svc.name} waits for ${dep} to be healthy`).toBe(true)
      }
    }
  })
})

describe('docker/consul: the demo fleet in Consul', () => {
  it('registers every sidecar and tracker of the stack at its host name and HTTP port, as packages/discovery would', () => {
    const file = repoPath('docker', 'consul', 'ghostfleet-services.json')
    expect(service('consul').volumes).toContainEqual({
      source: path.dirname(file),
      target: '/consul/config',
      readOnly: true,
      bind: true,
    })
    const definitions = asArray(asObject(readYaml(file), 'consul config')['services'], 'services').map((d) =>
      asObject(d, 'service'),
    )
    const expected: Record<string, { name: string; port: number }> = {
      'sidecar-a': { name: 'ghostfleet-sidecar', port: 26670 },
      'sidecar-b': { name: 'ghostfleet-sidecar', port: 26670 },
      tracker: { name: 'ghostfleet-tracker', port: 26680 },
      'tracker-standby': { name: 'ghostfleet-tracker', port: 26680 },
    }
    expect(definitions.map((d) => d['id']).sort()).toEqual(Object.keys(expected).sort())
    for (const definition of definitions) {
      const id = asString(definition['id'], 'id')
      const svc = service(id)
      // The sidecar id on Redis defaults to the host name, and Consul ids must match it (reconcile()).
      expect(svc.raw['hostname'], id).toBe(id)
      expect(definition['name'], id).toBe(expected[id]?.name)
      expect(GHOSTFLEET_SERVICES as readonly string[]).toContain(definition['name'])
      expect(definition['address'], id).toBe(id)
      expect(definition['port'], id).toBe(expected[id]?.port)
      // The port is the one the app serves: the health URL the image checks inside the container.
      expect(svc.environment['GHOSTFLEET_HEALTH_URL'], id).toBe(
        `http://127.0.0.1:${definition['port']}/livez`,
      )
      const checks = asArray(definition['checks'], `${id}.checks`).map((c) => asObject(c, 'check'))
      expect(checks.map((c) => c['http'])).toEqual([`http://${id}:${definition['port']}/readyz`])
      const tags = asArray(definition['tags'] ?? [], 'tags').map((t) => asString(t, 'tag'))
      const parsed = parseTargetTags(tags)
      expect(parsed.problems, id).toEqual([])
      if (definition['name'] === 'ghostfleet-sidecar') {
        expect(parsed.values).toEqual({ chainId: 'kyve-1', poolId: Number(svc.environment['POOL_ID']) })
      }
    }
  })
})

describe('docker/Dockerfile', () => {
  it('builds sidecar, tracker and devnet targets in several stages, with npm ci, turbo and a production prune', () => {
    const names = stages.map((s) => s.name)
    expect(names).toEqual(expect.arrayContaining(['sidecar', 'tracker', 'devnet']))
    expect(stages.length).toBeGreaterThan(4)
    const text = readFileSync(DOCKERFILE, 'utf8')
    // One build of the `ghostfleet` app and what it needs; every image runs it.
    const build = stages.find((s) => s.name === 'build')
    const runs = build?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args) ?? []
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true)
    expect(runs.some((r) => /turbo run build --filter=@ghostfleet\/cli\.\.\./.test(r))).toBe(true)
    expect(runs.some((r) => /npm prune --omit=dev/.test(r))).toBe(true)
    // COPY --from names stages that exist; files copied from the context exist.
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY')) {
        const from = /--from=(\S+)/.exec(copy.args)?.[1]
        if (from !== undefined) expect(names, copy.args).toContain(from)
        else {
          const sources = copy.args
            .split(/\s+/)
            .filter((w) => !w.startsWith('--'))
            .slice(0, -1)
          for (const source of sources) {
            if (source === '.') continue
            expect(existsSync(path.join(REPO, source)), `COPY ${source}`).toBe(true)
          }
        }
      }
    }
    // glibc, not musl (classic-level's arm64 prebuild is glibc-only).
    expect(text).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m)
    // The turbo used to prune is the one the repository's lockfile pins.
    const lock = JSON.parse(readFileSync(repoPath('package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>
    }
    expect(text).toContain(`ARG TURBO_VERSION=${lock.packages['node_modules/turbo']?.version}`)
  })

  it('runs every final image as a non-root user with a health check and the right CLI', () => {
    // Every image has `ghostfleet` and its old names, linked as npm links apps/ghostfleet's bins.
    const pkg = JSON.parse(readFileSync(repoPath('apps', 'ghostfleet', 'package.json'), 'utf8')) as {
      bin: Record<string, string>
    }
    const packageBins: Record<string, string> = {}
    for (const [name, file] of Object.entries(pkg.bin))
      packageBins[name] = path.posix.join('/app/apps/ghostfleet', file)
    expect(Object.keys(packageBins).sort()).toEqual(Object.keys(CLIS).sort())
    const bins: Record<string, string[]> = {
      sidecar: Object.keys(packageBins),
      tracker: Object.keys(packageBins),
      devnet: Object.keys(packageBins),
    }
    for (const [target, expected] of Object.entries(bins)) {
      const chain = stageChain(stages, target)
      const instructions = chain.flatMap((s) => [...s.instructions].reverse())
      const user = instructions.find((i) => i.keyword === 'USER')?.args
      expect(user, target).toBeDefined()
      expect(['root', '0', '0:0'], target).not.toContain(user)
      expect(
        instructions.some((i) => i.keyword === 'HEALTHCHECK'),
        target,
      ).toBe(true)
      const runs = chain
        .flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args))
        .join('\n')
      for (const bin of expected) {
        expect(runs, `${target}: ${bin}`).toContain(`ln -s ${packageBins[bin]} /usr/local/bin/${bin}`)
      }
    }
    const health = stages
      .find((s) => s.name === 'runtime')
      ?.instructions.find((i) => i.keyword === 'HEALTHCHECK')
    expect(health?.args).toMatch(/CMD \["node", "-e", "fetch\(process\.env\.GHOSTFLEET_HEALTH_URL/)
    const ignore = readFileSync(repoPath('.dockerignore'), 'utf8').split('\n')
    for (const entry of ['**/node_modules', '**/dist', '**/.turbo', '.git']) expect(ignore).toContain(entry)
  })
})

describe('systemd units', () => {
  it('pass systemd-analyze verify without a single warning', async () => {
    requireTool('systemd-analyze', 'install systemd (apt-get install systemd)')
    const root = await tempDir('gf-systemd-')
    try {
      const result = systemdVerify([SIDECAR_UNIT, TRACKER_UNIT], root.path)
      expect(result.output).toBe('')
      expect(result.code).toBe(0)
    } finally {
      await root.remove()
    }
  })

  it('give the sidecar more time to stop than its node gets, restart it on failure, keep secrets out', () => {
    const unit = readUnit(SIDECAR_UNIT)
    const defaults = sidecarConfigSchema.parse({
      node: { binary: '/usr/bin/true', home: '/tmp', launcher: 'binary' },
      pool: { chainId: 'kyve-1', poolId: 1 },
      thresholds: { heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 },
    } satisfies SidecarConfigInput)
    const grace = defaults.node.stopGraceSeconds
    expect(timespanSeconds(unitValue(unit, 'Service', 'TimeoutStopSec') ?? '0')).toBeGreaterThanOrEqual(
      2 * grace,
    )
    expect(unitValue(unit, 'Service', 'KillMode')).toBe('mixed')
    expect(unitValue(unit, 'Service', 'Restart')).toBe('on-failure')
    expect(timespanSeconds(unitValue(unit, 'Service', 'RestartSec') ?? '0')).toBeGreaterThanOrEqual(5)
    expect(Number(unitValue(unit, 'Unit', 'StartLimitBurst'))).toBeGreaterThan(0)
    expect(timespanSeconds(unitValue(unit, 'Unit', 'StartLimitIntervalSec') ?? '0')).toBeGreaterThan(0)
    expect(unitValues(unit, 'Service', 'EnvironmentFile')).toEqual(['/etc/ghostfleet/sidecar.env'])
    expect(unitValue(unit, 'Service', 'NoNewPrivileges')).toBe('yes')
    expect(unitValue(unit, 'Service', 'ProtectSystem')).toBe('strict')
    expect(unitValues(unit, 'Service', 'ReadWritePaths').join(' ')).toContain('%h')
    // The config directory named in ExecStart is one of the writable paths.
    expect(unitValue(unit, 'Service', 'ExecStart')).toMatch(
      /\/ghostfleet sidecar start --config %h\/\.ghostfleet$/,
    )
    expect(Number(unitValue(unit, 'Service', 'LimitNOFILE'))).toBeGreaterThanOrEqual(65536)
  })

  it('do not restart the sidecar on its configuration-error exit code', async () => {
    const prevented = unitValue(readUnit(SIDECAR_UNIT), 'Service', 'RestartPreventExitStatus')
    expect(prevented).toBe('2')
    const dir = await tempDir('gf-sidecar-config-')
    try {
      await writeFile(path.join(dir.path, 'config.toml'), 'pool = "often"\n')
      const result = await runProcess(
        process.execPath,
        [CLIS['ghostfleet-sidecar'] as string, 'start', '--config', dir.path],
        { env: {} },
      )
      expect(result.code, result.stderr).toBe(Number(prevented))
    } finally {
      await dir.remove()
    }
  })

  it('give the tracker its stop deadline, and do not restart it on its configuration-error exit code', async () => {
    const unit = readUnit(TRACKER_UNIT)
    // start-command.ts cuts a graceful stop at 30 s.
    expect(timespanSeconds(unitValue(unit, 'Service', 'TimeoutStopSec') ?? '0')).toBeGreaterThan(30)
    expect(unitValue(unit, 'Service', 'Restart')).toBe('on-failure')
    expect(unitValues(unit, 'Service', 'EnvironmentFile')).toEqual(['/etc/ghostfleet/tracker.env'])
    expect(unitValue(unit, 'Service', 'ProtectSystem')).toBe('strict')
    // RestartPreventExitStatus=2 is right only if the tracker really exits 2 on a configuration problem.
    const prevented = unitValue(unit, 'Service', 'RestartPreventExitStatus')
    expect(prevented).toBe('2')
    const dir = await tempDir('gf-tracker-config-')
    try {
      const bad = path.join(dir.path, 'tracker.toml')
      await writeFile(bad, 'pollIntervalSeconds = "often"\n')
      const result = await runProcess(
        process.execPath,
        [CLIS['ghostfleet-tracker'] as string, 'start', '--config', bad],
        {
          env: { GHOSTFLEET_REDIS_URL: 'redis://127.0.0.1:1' },
        },
      )
      expect(result.code, result.stderr).toBe(Number(prevented))
    } finally {
      await dir.remove()
    }
  })
})

describe('the environment file example', () => {
  it('sets only variables Ghostfleet reads, and no empty fleet key (which the apps refuse)', async () => {
    const text = await readFile(repoPath('deploy', 'systemd', 'ghostfleet.env.example'), 'utf8')
    const assignments = text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=') as [string, string])
    expect(assignments.map(([k]) => k).sort()).toEqual(
      [FLEET_KEY_ENV, REDIS_URL_ENV, 'GHOSTFLEET_LOG_LEVEL'].sort(),
    )
    for (const [key, value] of assignments) expect(value, key).not.toBe('')
    // The telemetry package reads GHOSTFLEET_LOG_LEVEL (createLogger).
    expect(await readFile(repoPath('packages', 'telemetry', 'src', 'logger.ts'), 'utf8')).toContain(
      'GHOSTFLEET_LOG_LEVEL',
    )
  })
})

describe('command lines in the deployment files and the operator guide', () => {
  const calls: CliCall[] = []
  beforeAll(async () => {
    for (const script of ['chain.sh', 'sidecar.sh']) {
      const file = repoPath('docker', 'devnet', script)
      calls.push(...cliCallsInShell(await readFile(file, 'utf8'), `docker/devnet/${script}`))
    }
    for (const svc of services.filter((s) => OURS.includes(s.name))) {
      const cmd = containerCommand(svc)
      if (cmd[0] !== undefined && CLIS[cmd[0]] !== undefined)
        calls.push({ where: `compose ${svc.name}`, cli: cmd[0], args: cmd.slice(1) })
    }
    for (const target of ['sidecar', 'tracker']) {
      const image: ComposeService = {
        name: target,
        raw: {},
        build: { context: REPO, dockerfile: DOCKERFILE, target },
        entrypoint: [],
        command: [],
        environment: {},
        volumes: [],
        ports: [],
        dependsOn: {},
      }
      const cmd = containerCommand(image)
      calls.push({ where: `Dockerfile ${target}`, cli: cmd[0] as string, args: cmd.slice(1) })
    }
    for (const file of [SIDECAR_UNIT, TRACKER_UNIT]) {
      const exec = unitValue(readUnit(file), 'Service', 'ExecStart') ?? ''
      const [binary, ...args] = exec.split(/\s+/)
      calls.push({ where: path.basename(file), cli: path.basename(binary ?? ''), args })
    }
    for (const block of shellBlocks(await readFile(OPERATOR_GUIDE, 'utf8'))) {
      calls.push(...cliCallsInShell(block, 'docs/operator-guide.md'))
    }
  })

  it('use only subcommands and flags the real CLIs accept', () => {
    expect(calls.length).toBeGreaterThan(12)
    const wheres = new Set(calls.map((c) => c.where))
    for (const where of [
      'docker/devnet/chain.sh',
      'docker/devnet/sidecar.sh',
      'compose kyve',
      'compose tracker',
      'docs/operator-guide.md',
    ]) {
      expect(wheres).toContain(where)
    }
    const cache = new Map<string, Set<string>>()
    const problems: string[] = []
    for (const call of calls) {
      expect(Object.keys(CLIS), call.where).toContain(call.cli)
      const { subcommand, flags } = callFlags(call)
      const key = `${call.cli} ${subcommand ?? ''}`
      let known = cache.get(key)
      if (known === undefined) {
        known = knownFlags(call.cli, subcommand)
        cache.set(key, known)
      }
      for (const flag of flags) {
        if (!known.has(flag)) problems.push(`${call.where}: ${call.cli} ${subcommand ?? ''} has no ${flag}`)
      }
    }
    expect(problems).toEqual([])
  })

  it('ship file_sd target files, and a guide example, that the tracker’s FileDiscoverer accepts', async () => {
    const dir = path.join(PROMETHEUS_DIR, 'targets')
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'))
    expect(files.sort()).toEqual(['sidecars.json', 'trackers.json'])
    for (const file of files) await new FileDiscoverer(path.join(dir, file)).discover()
    const guide = await readFile(OPERATOR_GUIDE, 'utf8')
    const blocks = [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim())
    const example = blocks.find((b) => b.startsWith('['))
    expect(example).toBeDefined()
    // The guide's Consul service definition: a name Ghostfleet uses, tags it can read, the check on /readyz.
    const consul = blocks.find((b) => b.startsWith('{'))
    for (const raw of asArray(asObject(JSON.parse(consul ?? '{}'), 'consul')['services'], 'services')) {
      const def = asObject(raw, 'service')
      expect(GHOSTFLEET_SERVICES as readonly string[]).toContain(def['name'])
      const tags = asArray(def['tags'] ?? [], 'tags').map((t) => asString(t, 'tag'))
      expect(parseTargetTags(tags).problems).toEqual([])
      const checks = asArray(def['checks'], 'checks').map((c) => asObject(c, 'check')['http'])
      expect(checks).toEqual([`http://${def['address']}:${def['port']}/readyz`])
    }
    const scratch = await tempDir('gf-file-sd-')
    try {
      const file = path.join(scratch.path, 'sidecars.json')
      await writeFile(file, example ?? '')
      const targets = await new FileDiscoverer(file).discover()
      expect(targets.map((t) => [t.id, t.address, t.chainId, t.poolId])).toEqual([
        ['osmosis-a', '10.0.0.5:26670', 'kyve-1', 1],
        ['osmosis-b', '10.0.0.6:26670', 'kyve-1', 1],
      ])
    } finally {
      await scratch.remove()
    }
  })
})

describe('the demo services, run on this host as compose runs them', () => {
  let dir: TempDir | undefined
  let redis: TestRedis | undefined
  const procs: TestProcess[] = []
  /** Compose `host:port` (service name and container port) → loopback address on this host. */
  const addresses = new Map<string, string>()
  let bin = ''

  const mapText = (text: string, self?: string): string => {
    let out = text
    for (const [from, to] of addresses) {
      out = out.split(from).join(to)
      const [svc, port] = from.split(':')
      if (svc === self) out = out.split(`0.0.0.0:${port}`).join(to).split(`127.0.0.1:${port}`).join(to)
    }
    return out
  }

  const start = (argv: string[], env: Record<string, string>): TestProcess => {
    const proc = startProcess(argv[0] as string, argv.slice(1), {
      cwd: dir?.path,
      env: { PATH: `${bin}:${process.env['PATH'] ?? ''}`, GHOSTFLEET_LOG_LEVEL: 'warn', ...env },
    })
    procs.push(proc)
    return proc
  }

  const healthy = async (name: string, proc: TestProcess, timeoutMs = 60_000) => {
    const url = mapText(service(name).environment['GHOSTFLEET_HEALTH_URL'] ?? '', name)
    await eventually(
      async () => {
        if (proc.hasExited()) throw new Error(`${name} exited: ${proc.output()}`)
        const answer = await getJson(url)
        expect(answer?.status, `${name} ${url}`).toBe(200)
      },
      { timeoutMs, intervalMs: 250, description: `${name} healthy at ${url}` },
    )
  }

  beforeAll(async () => {
    dir = await tempDir('gf-compose-run-')
    redis = await startRedis()
    for (const [key, port] of [
      ['chain:26657', await freePort()],
      ['chain:26656', await freePort()],
      ['kyve:1317', await freePort()],
      ['tracker:26680', await freePort()],
      ['sidecar-a:26670', await freePort()],
    ] as const) {
      addresses.set(key, `127.0.0.1:${port}`)
    }
    addresses.set('redis:6379', `127.0.0.1:${redis.port}`)
    // What the devnet image's symlinks provide (checked against package.json above).
    bin = path.join(dir.path, 'bin')
    await mkdir(bin)
    for (const [name, script] of Object.entries(CLIS)) {
      await writeFile(path.join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`, {
        mode: 0o755,
      })
    }
  }, 60_000)

  afterAll(async () => {
    for (const proc of procs.reverse()) await proc.stop('SIGTERM', 15_000)
    await redis?.stop()
    await dir?.remove()
  }, 120_000)

  it('chain, KYVE, tracker and a sidecar start from the compose definitions and pass their health checks', async () => {
    const root = dir?.path as string
    // chain: the entrypoint script with its volume at a temp dir and its listen addresses on loopback.
    const chain = service('chain')
    const chainCmd = containerCommand(chain).map((a) =>
      a.replace('/usr/local/lib/ghostfleet-devnet/', `${repoPath('docker', 'devnet')}/`),
    )
    const chainProc = start(chainCmd, {
      ...chain.environment,
      CHAIN_HOME: path.join(root, 'chain-data', 'chain'),
      CHAIN_RPC_LADDR: `tcp://${addresses.get('chain:26657')}`,
      CHAIN_P2P_LADDR: `tcp://${addresses.get('chain:26656')}`,
    })
    await healthy('chain', chainProc)

    // kyve: the compose command as it is, addresses mapped.
    const kyve = service('kyve')
    const kyveProc = start(
      containerCommand(kyve).map((a) => mapText(a, 'kyve')),
      {},
    )
    await healthy('kyve', kyveProc)

    // tracker: the compose command, its mounted config with the compose addresses mapped.
    const tracker = service('tracker')
    const trackerCmd = containerCommand(tracker)
    const configIndex = trackerCmd.indexOf('--config') + 1
    const mounted = hostPathOf(tracker, trackerCmd[configIndex] ?? '') as string
    const trackerConfig = path.join(root, 'tracker.toml')
    await writeFile(trackerConfig, mapText(await readFile(mounted, 'utf8')))
    trackerCmd[configIndex] = trackerConfig
    const trackerProc = start(
      trackerCmd.map((a) => mapText(a, 'tracker')),
      {
        GHOSTFLEET_REDIS_URL: mapText(tracker.environment['GHOSTFLEET_REDIS_URL'] ?? ''),
      },
    )
    await healthy('tracker', trackerProc)

    // sidecar-a: its entrypoint script, volumes at temp dirs; `init` runs against the KYVE API for real.
    const sidecar = service('sidecar-a')
    const nodeHome = path.join(root, 'sidecar-a-data', 'node')
    // The follower home is created first only to give it free ports; the script skips `init` for it then.
    const init = await runProcess(path.join(bin, 'ghostfleet-simnode'), [
      'init',
      '--home',
      nodeHome,
      '--chain-id',
      'sim-1',
    ])
    expect(init.code, init.stderr).toBe(0)
    const nodeConfig = path.join(nodeHome, 'config', 'config.toml')
    const rpcPort = await freePort()
    const p2pPort = await freePort()
    await writeFile(
      nodeConfig,
      (await readFile(nodeConfig, 'utf8'))
        .replace(/^laddr = "tcp:\/\/127\.0\.0\.1:26657"$/m, `laddr = "tcp://127.0.0.1:${rpcPort}"`)
        .replace(/^laddr = "tcp:\/\/0\.0\.0\.0:26656"$/m, `laddr = "tcp://127.0.0.1:${p2pPort}"`),
    )
    const sidecarPort = (addresses.get('sidecar-a:26670') as string).split(':')[1] as string
    const sidecarCmd = containerCommand(sidecar).map((a) =>
      a.replace('/usr/local/lib/ghostfleet-devnet/', `${repoPath('docker', 'devnet')}/`),
    )
    const env = Object.fromEntries(Object.entries(sidecar.environment).map(([k, v]) => [k, mapText(v)]))
    const sidecarProc = start(sidecarCmd, {
      ...env,
      NODE_HOME: nodeHome,
      CONFIG_DIR: path.join(root, 'sidecar-a-data', 'ghostfleet'),
      CHAIN_HOME: path.join(root, 'chain-data', 'chain'),
      CHAIN_P2P: addresses.get('chain:26656') as string,
      SIDECAR_HTTP_PORT: sidecarPort,
    })
    await healthy('sidecar-a', sidecarProc, 90_000)
    const config = await readFile(path.join(root, 'sidecar-a-data', 'ghostfleet', 'config.toml'), 'utf8')
    expect(config).toMatch(new RegExp(`^listen = "0\\.0\\.0\\.0:${sidecarPort}"$`, 'm'))
    expect(config).toContain(`--p2p.seeds`)
    // The follower syncs from the chain through the seed the script derived from the chain's home.
    await eventually(
      async () => {
        const status = (await getJson(`http://127.0.0.1:${rpcPort}/status`))?.body as
          | { result?: { sync_info?: { latest_block_height?: string } } }
          | undefined
        expect(Number(status?.result?.sync_info?.latest_block_height ?? 0)).toBeGreaterThan(2)
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'the follower to sync from the chain' },
    )
  }, 300_000)
})
