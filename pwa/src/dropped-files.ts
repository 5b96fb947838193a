// The files of a drop, folders walked: a dropped folder's files are named by their path with
// the folder's name first, as a picked folder's are. Chromium, Firefox and Safari give folder
// entries through webkitGetAsEntry; where an item has none, its file is taken as it is.

export interface DroppedFile {
  readonly name: string
  readonly file: File
}

/** The dropped files, at most `limit` of them (the walk stops there). The entries are taken
 * before the first await: a DataTransfer is emptied once its event has been handled. */
export async function droppedFiles(transfer: DataTransfer, limit: number): Promise<DroppedFile[]> {
  const entries: FileSystemEntry[] = []
  const plain: File[] = []
  for (const item of transfer.items) {
    if (item.kind !== 'file') continue
    const entry = item.webkitGetAsEntry()
    if (entry !== null) entries.push(entry)
    else {
      const file = item.getAsFile()
      if (file !== null) plain.push(file)
    }
  }
  const found: DroppedFile[] = plain.map((file) => ({ name: file.name, file }))
  for (const entry of entries) await walk(entry, found, limit)
  return found.slice(0, limit)
}

async function walk(entry: FileSystemEntry, found: DroppedFile[], limit: number): Promise<void> {
  if (found.length >= limit) return
  if (isFile(entry)) {
    const file = await new Promise<File>((resolve, reject) => entry.file(resolve, reject))
    found.push({ name: entry.fullPath.replace(/^\/+/, ''), file })
    return
  }
  if (!isDirectory(entry)) return
  const reader = entry.createReader()
  // readEntries answers in batches (100 in Chromium) until it answers none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    )
    if (batch.length === 0) return
    for (const child of batch) await walk(child, found, limit)
    if (found.length >= limit) return
  }
}

function isFile(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile
}

function isDirectory(entry: FileSystemEntry): entry is FileSystemDirectoryEntry {
  return entry.isDirectory
}
