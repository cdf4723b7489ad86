/**
 * Decoding and validating `PUT /v1/agent/service/register` bodies the way the agent does
 * (`AgentRegisterService` in hashicorp/consul `agent/agent_endpoint.go`, Consul docs "Register Service"):
 *
 * - keys match case-insensitively, and the snake_case forms the docs allow (`deregister_critical_service_after`)
 *   are accepted; unknown keys are ignored, as Go's decoder ignores them;
 * - a value of the wrong JSON type, or a duration Go cannot parse, is `400 Request decode failed: …`;
 * - `Name` is required (`400 Missing service name`), `Address` may not be a wildcard
 *   (`400 Invalid service address`), meta follows `ValidateServiceMetadata` (`400 Invalid Service Meta: …`),
 *   checks follow `CheckType.Validate` (`400 Invalid check: …`) and a check `Status` must be a health state.
 *
 * Only HTTP and TCP checks are run by the fake; a registration with another kind of check (TTL, script, gRPC,
 * alias, …) is answered `501`, so a test can never silently rely on a check the fake does not run.
 */
import { parseDuration } from './go-duration.js'

export type CheckStatus = 'passing' | 'warning' | 'critical'

/** A check as the agent holds it, durations in nanoseconds. */
export interface CheckDefinition {
  CheckID: string
  Name: string
  Notes: string
  Status: CheckStatus
  HTTP: string
  Method: string
  Header: Record<string, string[]>
  Body: string
  TCP: string
  IntervalNs: number
  TimeoutNs: number
  DeregisterCriticalServiceAfterNs: number
  SuccessBeforePassing: number
  FailuresBeforeCritical: number
  TLSSkipVerify: boolean
  DisableRedirects: boolean
}

/** A service as the agent holds it. */
export interface ServiceDefinition {
  ID: string
  Name: string
  Tags: string[]
  Address: string
  Port: number
  Meta: Record<string, string>
  EnableTagOverride: boolean
  Weights: { Passing: number; Warning: number }
  Checks: CheckDefinition[]
}

/** Why the agent refused the body: the status and the plain-text reason it writes. */
export class RequestRejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason)
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const HEALTH_STATES = new Set(['passing', 'warning', 'critical'])
const META_KEY = /^[a-zA-Z0-9_-]+$/

/** Parses and validates a register body; throws {@link RequestRejection}. */
export function decodeServiceRegistration(text: string): ServiceDefinition {
  let raw: Json
  try {
    raw = JSON.parse(text) as Json
  } catch (error) {
    throw decodeFailed(error instanceof Error ? error.message : String(error))
  }
  const body = object(raw, 'ServiceDefinition')
  const name = string(body, 'ServiceDefinition', 'Name')
  const id = string(body, 'ServiceDefinition', 'ID')
  const address = string(body, 'ServiceDefinition', 'Address')
  const port = int(body, 'ServiceDefinition', 'Port')
  const tags = stringList(body, 'ServiceDefinition', 'Tags')
  const meta = stringMap(body, 'ServiceDefinition', 'Meta')
  const enableTagOverride = bool(body, 'ServiceDefinition', 'EnableTagOverride')
  const weightsRaw = field(body, 'Weights')
  const weights = { Passing: 1, Warning: 1 }
  if (weightsRaw !== undefined && weightsRaw !== null) {
    const w = object(weightsRaw, 'ServiceDefinition.Weights')
    weights.Passing = int(w, 'Weights', 'Passing') || 1
    weights.Warning = int(w, 'Weights', 'Warning')
  }
  const checkRaw = field(body, 'Check')
  const checksRaw = field(body, 'Checks')
  const checkBodies: { [key: string]: Json }[] = []
  if (checkRaw !== undefined && checkRaw !== null)
    checkBodies.push(object(checkRaw, 'ServiceDefinition.Check'))
  if (checksRaw !== undefined && checksRaw !== null) {
    if (!Array.isArray(checksRaw))
      throw typeError(checksRaw, 'ServiceDefinition.Checks', 'structs.CheckTypes')
    for (const item of checksRaw) checkBodies.push(object(item, 'ServiceDefinition.Checks'))
  }

  if (name === '') throw new RequestRejection(400, 'Missing service name')
  if (['0.0.0.0', '::', '[::]'].includes(address)) throw new RequestRejection(400, 'Invalid service address')
  if (weights.Passing < 1 || weights.Warning < 0) {
    throw new RequestRejection(400, 'Invalid Weights: Passing must be greater than 0')
  }
  const metaProblem = metaError(meta)
  if (metaProblem !== undefined) throw new RequestRejection(400, `Invalid Service Meta: ${metaProblem}`)

  const serviceId = id === '' ? name : id
  const checks = checkBodies.map((check, index) =>
    decodeCheck(check, serviceId, name, checkBodies.length === 1 ? '' : `:${index + 1}`),
  )
  return {
    ID: serviceId,
    Name: name,
    Tags: tags,
    Address: address,
    Port: port,
    Meta: meta,
    EnableTagOverride: enableTagOverride,
    Weights: weights,
    Checks: checks,
  }
}

function decodeCheck(
  body: { [key: string]: Json },
  serviceId: string,
  serviceName: string,
  suffix: string,
): CheckDefinition {
  const s = (key: string) => string(body, 'CheckType', key)
  const interval = duration(body, 'Interval')
  const ttl = duration(body, 'TTL')
  const http = s('HTTP')
  const tcp = s('TCP')
  const unsupported = [
    'Args',
    'ScriptArgs',
    'GRPC',
    'H2PING',
    'UDP',
    'DockerContainerID',
    'AliasNode',
    'AliasService',
    'OSService',
  ].filter((key) => {
    const value = field(body, key)
    return (
      value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)
    )
  })
  const status = s('Status')
  const outputMaxSize = int(body, 'CheckType', 'OutputMaxSize')

  // CheckType.Validate, in its order.
  const intervalCheck =
    http !== '' || tcp !== '' || unsupported.some((key) => key !== 'AliasNode' && key !== 'AliasService')
  if (interval > 0 && ttl > 0) throw invalidCheck('Interval and TTL cannot both be specified')
  if (intervalCheck && interval <= 0) {
    throw invalidCheck('Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks')
  }
  if (!intervalCheck && !unsupported.some((key) => key.startsWith('Alias')) && ttl <= 0) {
    throw invalidCheck('TTL must be > 0 for TTL checks')
  }
  if (outputMaxSize < 0) throw invalidCheck('MaxOutputMaxSize must be positive')
  if (status !== '' && !HEALTH_STATES.has(status)) {
    throw new RequestRejection(400, "Status for checks must 'passing', 'warning', 'critical'")
  }
  if (ttl > 0 || unsupported.length > 0) {
    const kinds = ttl > 0 ? ['TTL', ...unsupported] : unsupported
    throw new RequestRejection(
      501,
      `fake Consul: ${kinds.join(', ')} checks are not implemented by this fake (it runs HTTP and TCP checks only)`,
    )
  }
  const checkId = s('CheckID') || s('ID') || `service:${serviceId}${suffix}`
  const timeout = duration(body, 'Timeout')
  return {
    CheckID: checkId,
    Name: s('Name') || `Service '${serviceName}' check`,
    Notes: s('Notes'),
    Status: (status || 'critical') as CheckStatus,
    HTTP: http,
    Method: s('Method') || 'GET',
    Header: headerMap(body),
    Body: s('Body'),
    TCP: tcp,
    IntervalNs: interval,
    // The docs: `Timeout (duration: 10s)`.
    TimeoutNs: timeout > 0 ? timeout : 10e9,
    DeregisterCriticalServiceAfterNs: duration(body, 'DeregisterCriticalServiceAfter'),
    SuccessBeforePassing: int(body, 'CheckType', 'SuccessBeforePassing'),
    FailuresBeforeCritical: int(body, 'CheckType', 'FailuresBeforeCritical'),
    TLSSkipVerify: bool(body, 'CheckType', 'TLSSkipVerify'),
    DisableRedirects: bool(body, 'CheckType', 'DisableRedirects'),
  }
}

function metaError(meta: Record<string, string>): string | undefined {
  const entries = Object.entries(meta)
  if (entries.length > 64) return 'Node metadata cannot contain more than 64 key/value pairs'
  for (const [key, value] of entries) {
    let problem: string | undefined
    if (key === '') problem = 'Key cannot be blank'
    else if (!META_KEY.test(key)) problem = 'Key contains invalid characters'
    else if (key.length > 128) problem = 'Key is too long (limit: 128 characters)'
    else if (key.startsWith('consul-')) problem = "Key prefix 'consul-' is reserved for internal use"
    else if (value.length > 512) problem = 'Value is too long (limit: 512 characters)'
    if (problem !== undefined) return `Couldn't load metadata pair ('${key}', '${value}'): ${problem}`
  }
  return undefined
}

/** Go's case-insensitive field match plus Consul's snake_case aliases: both reduce to lowercase without `_`. */
function field(body: { [key: string]: Json }, name: string): Json | undefined {
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase().replaceAll('_', '') === wanted) return value
  }
  return undefined
}

function object(value: Json, where: string): { [key: string]: Json } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw typeError(value, where, 'struct')
  }
  return value
}

function string(body: { [key: string]: Json }, struct: string, name: string): string {
  const value = field(body, name)
  if (value === undefined || value === null) return ''
  if (typeof value !== 'string') throw typeError(value, `${struct}.${name}`, 'string')
  return value
}

function int(body: { [key: string]: Json }, struct: string, name: string): number {
  const value = field(body, name)
  if (value === undefined || value === null) return 0
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw typeError(value, `${struct}.${name}`, 'int')
  return value
}

function bool(body: { [key: string]: Json }, struct: string, name: string): boolean {
  const value = field(body, name)
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') throw typeError(value, `${struct}.${name}`, 'bool')
  return value
}

function stringList(body: { [key: string]: Json }, struct: string, name: string): string[] {
  const value = field(body, name)
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw typeError(value, `${struct}.${name}`, '[]string')
  return value.map((item) => {
    if (typeof item !== 'string') throw typeError(item, `${struct}.${name}`, 'string')
    return item
  })
}

function stringMap(body: { [key: string]: Json }, struct: string, name: string): Record<string, string> {
  const value = field(body, name)
  if (value === undefined || value === null) return {}
  const map = object(value, `${struct}.${name}`)
  const result: Record<string, string> = {}
  for (const [key, item] of Object.entries(map)) {
    if (typeof item !== 'string') throw typeError(item, `${struct}.${name}`, 'string')
    result[key] = item
  }
  return result
}

function headerMap(body: { [key: string]: Json }): Record<string, string[]> {
  const value = field(body, 'Header')
  if (value === undefined || value === null) return {}
  const map = object(value, 'CheckType.Header')
  const result: Record<string, string[]> = {}
  for (const [key, item] of Object.entries(map)) {
    if (!Array.isArray(item) || item.some((entry) => typeof entry !== 'string')) {
      throw typeError(item, 'CheckType.Header', '[]string')
    }
    result[key] = item as string[]
  }
  return result
}

/** Go durations arrive as strings (`"10s"`) or as numbers of nanoseconds. */
function duration(body: { [key: string]: Json }, name: string): number {
  const value = field(body, name)
  if (value === undefined || value === null || value === '') return 0
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value !== 'string') throw typeError(value, `CheckType.${name}`, 'time.Duration')
  const parsed = parseDuration(value)
  if ('error' in parsed) throw decodeFailed(parsed.error)
  return parsed.nanos
}

function typeError(value: Json, where: string, goType: string): RequestRejection {
  const kind =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : typeof value === 'boolean'
          ? 'bool'
          : typeof value
  return decodeFailed(`json: cannot unmarshal ${kind} into Go struct field ${where} of type ${goType}`)
}

function decodeFailed(message: string): RequestRejection {
  return new RequestRejection(400, `Request decode failed: ${message}`)
}

function invalidCheck(message: string): RequestRejection {
  return new RequestRejection(400, `Invalid check: ${message}`)
}
