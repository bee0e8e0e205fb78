import { createHash, type Hash } from 'node:crypto';

/**
 * SM3 of a firmware image and of each chunkSize slice, fed in blocks of any size, so neither packing
 * nor verifying holds the image in memory. Both digests come from one pass over the bytes (Node's
 * OpenSSL SM3): the whole-image hash and the current chunk's hash are updated from the same block.
 */
export class ImageDigester {
  /** Null when the whole-image digest is computed elsewhere (a worker: whole-image-digest.ts). */
  private readonly whole: Hash | null;
  private chunk: Hash = createHash('sm3');
  private inChunk = 0;
  private total = 0;
  readonly chunks: string[] = [];

  /** `onChunk` sees each chunk's digest as soon as it is complete: a reader can stop at the first bad one. */
  constructor(
    readonly chunkSize: number,
    private readonly onChunk?: (index: number, digestHex: string) => void,
    options: { whole?: boolean } = {},
  ) {
    this.whole = options.whole === false ? null : createHash('sm3');
  }

  get bytesDone(): number {
    return this.total;
  }

  update(block: Uint8Array): void {
    this.whole?.update(block);
    let pos = 0;
    while (pos < block.length) {
      const take = Math.min(this.chunkSize - this.inChunk, block.length - pos);
      this.chunk.update(block.subarray(pos, pos + take));
      this.inChunk += take;
      pos += take;
      if (this.inChunk === this.chunkSize) this.closeChunk();
    }
    this.total += block.length;
  }

  /** The whole image's digest ('' when computed elsewhere); the last, short chunk is closed here. */
  finish(): { sm3: string; chunks: string[] } {
    if (this.inChunk > 0) this.closeChunk();
    return { sm3: this.whole?.digest('hex') ?? '', chunks: this.chunks };
  }

  private closeChunk(): void {
    const digest = this.chunk.digest('hex');
    this.chunks.push(digest);
    this.chunk = createHash('sm3');
    this.inChunk = 0;
    this.onChunk?.(this.chunks.length - 1, digest);
  }
}

/** Read size for streaming: 1 MiB, a multiple of every allowed chunk size. */
export const STREAM_BLOCK_BYTES = 1024 * 1024;
