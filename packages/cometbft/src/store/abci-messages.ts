/**
 * Block results as CometBFT v0.37 stores them under `abciResponsesKey:<h>` and `lastABCIResponseKey`
 * (`tendermint.state.ABCIResponses{deliver_txs=1,end_block=2,begin_block=3}`, `ABCIResponsesInfo`) and the
 * `tendermint.abci` responses they hold. In v0.37 event attribute keys and values are strings (bytes in v0.34;
 * the wire format is the same).
 */
import { decodeFields } from './block-messages.js'
import { ProtoWriter } from './proto-wire.js'
import {
  type ConsensusParams,
  decodeConsensusParams,
  decodePublicKey,
  encodeConsensusParams,
  encodePublicKey,
  type PublicKey,
} from './state-messages.js'

const EMPTY: Uint8Array = new Uint8Array(0)

/** `tendermint.abci.EventAttribute { string key = 1; string value = 2; bool index = 3; }` */
export interface EventAttribute {
  key: string
  value: string
  index: boolean
}

/** `tendermint.abci.Event { string type = 1; repeated EventAttribute attributes = 2; }` */
export interface Event {
  type: string
  attributes: EventAttribute[]
}

/** `tendermint.abci.ResponseDeliverTx` */
export interface ResponseDeliverTx {
  /** 1 */
  code: number
  /** 2 */
  data: Uint8Array
  /** 3 */
  log: string
  /** 4 */
  info: string
  /** 5 */
  gasWanted: number
  /** 6 */
  gasUsed: number
  /** 7 */
  events: Event[]
  /** 8 */
  codespace: string
}

/** `tendermint.abci.ResponseBeginBlock { repeated Event events = 1; }` */
export interface ResponseBeginBlock {
  events: Event[]
}

/** `tendermint.abci.ValidatorUpdate { PublicKey pub_key = 1 (non-nullable); int64 power = 2; }` */
export interface ValidatorUpdate {
  pubKey: PublicKey
  power: number
}

/** `tendermint.abci.ResponseEndBlock { repeated ValidatorUpdate validator_updates = 1; ConsensusParams consensus_param_updates = 2; repeated Event events = 3; }` */
export interface ResponseEndBlock {
  validatorUpdates: ValidatorUpdate[]
  consensusParamUpdates: ConsensusParams | null
  events: Event[]
}

/** `tendermint.state.ABCIResponses { repeated ResponseDeliverTx deliver_txs = 1; ResponseEndBlock end_block = 2; ResponseBeginBlock begin_block = 3; }` */
export interface ABCIResponses {
  deliverTxs: ResponseDeliverTx[]
  /** CometBFT always sets it after executing a block. */
  endBlock: ResponseEndBlock | null
  /** CometBFT always sets it after executing a block. */
  beginBlock: ResponseBeginBlock | null
}

/** `tendermint.state.ABCIResponsesInfo { ABCIResponses abci_responses = 1; int64 height = 2; }` (`lastABCIResponseKey`). */
export interface ABCIResponsesInfo {
  abciResponses: ABCIResponses | null
  height: number
}

export function emptyResponseDeliverTx(): ResponseDeliverTx {
  return { code: 0, data: EMPTY, log: '', info: '', gasWanted: 0, gasUsed: 0, events: [], codespace: '' }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoders

export function encodeEventAttribute(m: EventAttribute): Uint8Array {
  const w = new ProtoWriter(64)
  w.string(1, m.key)
  w.string(2, m.value)
  w.bool(3, m.index)
  return w.finish()
}

export function encodeEvent(m: Event): Uint8Array {
  const w = new ProtoWriter(128)
  w.string(1, m.type)
  for (const a of m.attributes) w.lengthDelimited(2, encodeEventAttribute(a))
  return w.finish()
}

export function encodeResponseDeliverTx(m: ResponseDeliverTx): Uint8Array {
  const w = new ProtoWriter(128)
  w.uint32(1, m.code)
  w.bytes(2, m.data)
  w.string(3, m.log)
  w.string(4, m.info)
  w.int64(5, m.gasWanted)
  w.int64(6, m.gasUsed)
  for (const e of m.events) w.lengthDelimited(7, encodeEvent(e))
  w.string(8, m.codespace)
  return w.finish()
}

export function encodeResponseBeginBlock(m: ResponseBeginBlock): Uint8Array {
  const w = new ProtoWriter(64)
  for (const e of m.events) w.lengthDelimited(1, encodeEvent(e))
  return w.finish()
}

export function encodeValidatorUpdate(m: ValidatorUpdate): Uint8Array {
  const w = new ProtoWriter(64)
  w.lengthDelimited(1, encodePublicKey(m.pubKey))
  w.int64(2, m.power)
  return w.finish()
}

export function encodeResponseEndBlock(m: ResponseEndBlock): Uint8Array {
  const w = new ProtoWriter(64)
  for (const u of m.validatorUpdates) w.lengthDelimited(1, encodeValidatorUpdate(u))
  if (m.consensusParamUpdates !== null) w.lengthDelimited(2, encodeConsensusParams(m.consensusParamUpdates))
  for (const e of m.events) w.lengthDelimited(3, encodeEvent(e))
  return w.finish()
}

export function encodeABCIResponses(m: ABCIResponses): Uint8Array {
  const w = new ProtoWriter(256)
  for (const d of m.deliverTxs) w.lengthDelimited(1, encodeResponseDeliverTx(d))
  if (m.endBlock !== null) w.lengthDelimited(2, encodeResponseEndBlock(m.endBlock))
  if (m.beginBlock !== null) w.lengthDelimited(3, encodeResponseBeginBlock(m.beginBlock))
  return w.finish()
}

/** Wraps already-encoded ABCIResponses (avoids re-encoding what was just written under `abciResponsesKey`). */
export function encodeABCIResponsesInfoRaw(abciResponses: Uint8Array | null, height: number): Uint8Array {
  const w = new ProtoWriter((abciResponses?.length ?? 0) + 24)
  if (abciResponses !== null) w.lengthDelimited(1, abciResponses)
  w.int64(2, height)
  return w.finish()
}

export function encodeABCIResponsesInfo(m: ABCIResponsesInfo): Uint8Array {
  return encodeABCIResponsesInfoRaw(
    m.abciResponses === null ? null : encodeABCIResponses(m.abciResponses),
    m.height,
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders

export function decodeEventAttribute(bytes: Uint8Array): EventAttribute {
  return decodeFields<EventAttribute>(
    bytes,
    'EventAttribute',
    { key: '', value: '', index: false },
    (r, t, m) => {
      if (t.field === 1) m.key = r.string(t)
      else if (t.field === 2) m.value = r.string(t)
      else if (t.field === 3) m.index = r.bool(t)
      else return false
      return true
    },
  )
}

export function decodeEvent(bytes: Uint8Array): Event {
  return decodeFields<Event>(bytes, 'Event', { type: '', attributes: [] }, (r, t, m) => {
    if (t.field === 1) m.type = r.string(t)
    else if (t.field === 2) m.attributes.push(decodeEventAttribute(r.bytes(t)))
    else return false
    return true
  })
}

export function decodeResponseDeliverTx(bytes: Uint8Array): ResponseDeliverTx {
  return decodeFields(bytes, 'ResponseDeliverTx', emptyResponseDeliverTx(), (r, t, m) => {
    switch (t.field) {
      case 1:
        m.code = r.uint32(t)
        break
      case 2:
        m.data = r.bytes(t)
        break
      case 3:
        m.log = r.string(t)
        break
      case 4:
        m.info = r.string(t)
        break
      case 5:
        m.gasWanted = r.int64(t)
        break
      case 6:
        m.gasUsed = r.int64(t)
        break
      case 7:
        m.events.push(decodeEvent(r.bytes(t)))
        break
      case 8:
        m.codespace = r.string(t)
        break
      default:
        return false
    }
    return true
  })
}

export function decodeResponseBeginBlock(bytes: Uint8Array): ResponseBeginBlock {
  return decodeFields<ResponseBeginBlock>(bytes, 'ResponseBeginBlock', { events: [] }, (r, t, m) => {
    if (t.field !== 1) return false
    m.events.push(decodeEvent(r.bytes(t)))
    return true
  })
}

export function decodeValidatorUpdate(bytes: Uint8Array): ValidatorUpdate {
  const init: ValidatorUpdate = { pubKey: { type: 'ed25519', key: EMPTY }, power: 0 }
  return decodeFields(bytes, 'ValidatorUpdate', init, (r, t, m) => {
    if (t.field === 1) m.pubKey = decodePublicKey(r.bytes(t))
    else if (t.field === 2) m.power = r.int64(t)
    else return false
    return true
  })
}

export function decodeResponseEndBlock(bytes: Uint8Array): ResponseEndBlock {
  const init: ResponseEndBlock = { validatorUpdates: [], consensusParamUpdates: null, events: [] }
  return decodeFields(bytes, 'ResponseEndBlock', init, (r, t, m) => {
    if (t.field === 1) m.validatorUpdates.push(decodeValidatorUpdate(r.bytes(t)))
    else if (t.field === 2) m.consensusParamUpdates = decodeConsensusParams(r.bytes(t))
    else if (t.field === 3) m.events.push(decodeEvent(r.bytes(t)))
    else return false
    return true
  })
}

export function decodeABCIResponses(bytes: Uint8Array): ABCIResponses {
  const init: ABCIResponses = { deliverTxs: [], endBlock: null, beginBlock: null }
  return decodeFields(bytes, 'ABCIResponses', init, (r, t, m) => {
    if (t.field === 1) m.deliverTxs.push(decodeResponseDeliverTx(r.bytes(t)))
    else if (t.field === 2) m.endBlock = decodeResponseEndBlock(r.bytes(t))
    else if (t.field === 3) m.beginBlock = decodeResponseBeginBlock(r.bytes(t))
    else return false
    return true
  })
}

export function decodeABCIResponsesInfo(bytes: Uint8Array): ABCIResponsesInfo {
  const init: ABCIResponsesInfo = { abciResponses: null, height: 0 }
  return decodeFields(bytes, 'ABCIResponsesInfo', init, (r, t, m) => {
    if (t.field === 1) m.abciResponses = decodeABCIResponses(r.bytes(t))
    else if (t.field === 2) m.height = r.int64(t)
    else return false
    return true
  })
}
