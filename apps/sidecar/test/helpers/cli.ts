import { runProcess, SIDECAR_CLI, SIMNODE_CLI } from '@ghostfleet/testkit'

/** Runs `ghostfleet-sidecar <args>` as a real process. */
export async function sidecarCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runProcess(process.execPath, [SIDECAR_CLI, ...args], { env })
}

/** `ghostfleet-simnode generate`: a home with `blocks` blocks in real LevelDB databases. */
export async function generateHome(home: string, blocks: number, chainId = 'gen-1'): Promise<void> {
  const r = await runProcess(process.execPath, [
    SIMNODE_CLI,
    'generate',
    '--home',
    home,
    '--chain-id',
    chainId,
    '--blocks',
    String(blocks),
    '--block-txs',
    '1',
    '--tx-size',
    '64',
    '--valset-interval',
    '50',
  ])
  if (r.code !== 0) throw new Error(`simnode generate failed: ${r.stderr}${r.stdout}`)
}
