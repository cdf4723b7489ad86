import { access } from 'node:fs/promises'

/** Whether `file` can be reached (any kind of entry); an unreadable parent counts as absent. */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await access(file)
    return true
  } catch {
    return false
  }
}
