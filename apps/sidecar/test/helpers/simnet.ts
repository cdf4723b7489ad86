import { type KyveSimulator, type KyveSimulatorOptions, startKyveSimulator } from '@ghostfleet/devnet'
import { SIM_CHAIN_ID, SimNet as TestkitSimNet } from '@ghostfleet/testkit'
import { processesLaunchedBy } from '../../src/supervisor/process-inspect.js'

/* The test kit's network of simulated nodes and real sidecars, with the simulated KYVE API and the sidecar's node finder. */

export class SimNet extends TestkitSimNet {
  protected nodesLaunchedBy(configDir: string): Promise<number[]> {
    return processesLaunchedBy(configDir)
  }

  async startKyve(options: KyveSimulatorOptions): Promise<KyveSimulator> {
    // The pools serve the chain the net's homes run, as a real pool's config names it.
    return this.stopAtCleanup(await startKyveSimulator({ sourceChainId: SIM_CHAIN_ID, ...options }))
  }
}
