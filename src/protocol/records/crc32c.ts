// CRC32C (Castagnoli), as record batches v2 use it; hardware-accelerated by @node-rs/crc32.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC32C of `buf`, as an unsigned 32-bit number. */
export function crc32c(buf: Buffer): number {
  return nativeCrc32c(buf) >>> 0;
}
