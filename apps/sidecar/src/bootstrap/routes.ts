/*
 * The donor's checkpoint routes on its peer listener (apps/sidecar/src/peer): the new host's side builds the
 * same paths. Checkpoint ids and manifest paths are plain names (their schemas allow only URL-safe characters),
 * so they go on the request line as they are.
 */

/** The signed manifest text of checkpoint `id`. */
export function manifestRoute(id: string): string {
  return `/v1/checkpoints/${id}/manifest`
}

/** One file of checkpoint `id`, by its manifest path (`blockstore.db/000123.ldb`); Range requests allowed. */
export function fileRoute(id: string, relativePath: string): string {
  return `/v1/checkpoints/${id}/files/${relativePath}`
}

/** DELETE: the new host is done with checkpoint `id`; the donor removes it. */
export function checkpointRoute(id: string): string {
  return `/v1/checkpoints/${id}`
}
