/**
 * The few durable-filesystem primitives the WAL and the snapshot store share. A file's new
 * directory entry (create, rename, unlink) is only durable once its directory is fsynced.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** fsyncs a directory so entries created, renamed or removed in it survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes all of `buf` at `position`, looping over short writes. */
export async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`short write: ${bytesWritten} bytes at ${position + done}`);
    done += bytesWritten;
  }
}

/** True when every byte of `buf` from `from` on is zero (never-written, preallocated space). */
export function allZeroFrom(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
