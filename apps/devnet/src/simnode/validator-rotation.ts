import { createHash } from 'node:crypto'
import type { ValidatorSet } from '@ghostfleet/cometbft'
import { makeValidatorSet } from './store/synthetic.js'

/**
 * The simulated chain's validator changes: every `interval` heights the set alternates between the genesis
 * validators and the genesis validators plus one extra (a different one each time), so the state store holds
 * full validator sets at their change heights and pointers in between, as on a live chain.
 * Returns the set that block `height`'s EndBlock switches to, or undefined when it changes nothing.
 */
export function validatorSetUpdateAt(
  chainId: string,
  genesis: ValidatorSet,
  height: number,
  interval: number,
): ValidatorSet | undefined {
  if (interval <= 0 || height % interval !== 0) return undefined
  const k = height / interval
  const members = genesis.validators.map((v) => ({ pubKey: v.pubKey, votingPower: v.votingPower }))
  if (k % 2 === 1) {
    members.push({
      pubKey: {
        type: 'ed25519',
        key: new Uint8Array(createHash('sha256').update(`${chainId}/validator/extra-${k}`).digest()),
      },
      votingPower: 5,
    })
  }
  return makeValidatorSet(members)
}
