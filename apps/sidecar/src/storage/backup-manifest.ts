import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'

/*
 * The manifest Ghostfleet writes into every backup it makes, so that retention can tell its own backups from
 * anything else in the destination (supervysor's backups, an operator's copies, an unrelated directory named
 * `1000`): retention only ever deletes a backup whose manifest says Ghostfleet made it, for that height.
 *
 * Where it lives:
 * - a directory backup `<height>/`: `<height>/ghostfleet-backup.json`;
 * - an archive `<height>.tar.gz` / `<height>.zip`: inside the archive (`ghostfleet-backup.json` beside `data/`),
 *   and as the companion file `<height>.tar.gz.ghostfleet-backup.json` next to it, which is what retention reads
 *   (opening a multi-GB archive to find a member would cost a full decompression). The companion records the
 *   archive's size; an archive of another size under that name is not the one Ghostfleet wrote, and is kept.
 */

export const BACKUP_MANIFEST_NAME = 'ghostfleet-backup.json'
export const BACKUP_MANIFEST_FORMAT = 'ghostfleet-backup'

const manifestSchema = z.object({
  format: z.literal(BACKUP_MANIFEST_FORMAT),
  version: z.literal(1),
  createdAt: z.iso.datetime(),
  createdBy: z.string().min(1).max(200),
  chainId: z.string().max(200).nullable(),
  blockStore: z.object({
    base: z.number().int().nonnegative(),
    height: z.number().int().positive(),
  }),
  compression: z.enum(['none', 'tar.gz', 'zip']),
  source: z.string().min(1).max(4096),
  /** The archive's size in bytes (archives only; filled in after it is written). */
  archiveBytes: z.number().int().nonnegative().nullable(),
  /** Every file copied from the data directory: path relative to it, and size. */
  files: z
    .array(z.object({ path: z.string().min(1).max(4096), bytes: z.number().int().nonnegative() }))
    .max(10_000_000),
})

/** What a backup manifest records. */
export type BackupManifest = z.infer<typeof manifestSchema>

/** The companion manifest path of an archive backup. */
export function companionManifestPath(archive: string): string {
  return `${archive}.${BACKUP_MANIFEST_NAME}`
}

export async function writeBackupManifest(file: string, manifest: BackupManifest): Promise<void> {
  await writeFile(file, `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`, { flag: 'wx' })
}

async function readManifestFile(file: string): Promise<BackupManifest | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return null
  }
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/**
 * The manifest of the backup `name` in `destDir` when Ghostfleet made it for `height`, else null (no manifest,
 * an invalid one, another height, or an archive that is not the one the manifest describes).
 */
export async function ownBackupManifest(
  destDir: string,
  name: string,
  height: bigint,
  compression: 'none' | 'tar.gz' | 'zip',
): Promise<BackupManifest | null> {
  const entry = path.join(destDir, name)
  const manifest =
    compression === 'none'
      ? await readManifestFile(path.join(entry, BACKUP_MANIFEST_NAME))
      : await readManifestFile(companionManifestPath(entry))
  if (manifest === null) return null
  if (BigInt(manifest.blockStore.height) !== height || manifest.compression !== compression) return null
  if (compression !== 'none') {
    const size = await stat(entry).then(
      (info) => (info.isFile() ? info.size : null),
      () => null,
    )
    if (size === null || manifest.archiveBytes !== size) return null
  }
  return manifest
}
