import { createHash, type Hash } from 'node:crypto';

/**
 * The camera's own reader of an uploaded .swfw package (docs/firmware-format.md), fed the upload's
 * bytes as they arrive: the head (magic, format, manifest and signature lengths, the manifest's signed
 * bytes, the DER signature) first, then the image, whose SM3 per manifest chunk and whole is computed on
 * the fly. Nothing of the image is kept in memory. Written from the document, not from the driver's
 * writer: a layout bug shared by both would pass every test.
 */
export interface UploadedManifest {
  format: number;
  family: string;
  models: string[];
  hardware: string[];
  version: string;
  minPreviousVersion: string;
  size: number;
  chunkSize: number;
  sm3: string;
  chunks: string[];
  vendorKeyId: string;
}

export interface PackageHead {
  manifestBytes: Buffer;
  manifest: UploadedManifest;
  signature: Buffer;
  /** Bytes of the package before the image: the head's own length. */
  length: number;
}

export class PackageRejected extends Error {
  constructor(
    readonly status: 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

const MAGIC = 'SWFW';
/** magic(4) version(1) reserved(3) manifest length u32 BE(4) signature length u16 BE(2) reserved(2). */
const FIXED = 16;
const MAX_MANIFEST = 1024 * 1024;
const MAX_SIGNATURE = 72;

export class PackageReader {
  private pending: Buffer = Buffer.alloc(0);
  private headValue: PackageHead | null = null;
  private imageBytes = 0;
  private readonly whole: Hash = createHash('sm3');
  private chunk: Hash = createHash('sm3');
  private chunkFill = 0;
  private chunkIndex = 0;

  constructor(private readonly maxImageBytes: number) {}

  get head(): PackageHead | null {
    return this.headValue;
  }

  get imageReceived(): number {
    return this.imageBytes;
  }

  /** Takes the next bytes; throws PackageRejected the moment the package cannot be the one signed. */
  push(bytes: Buffer): void {
    if (!this.headValue) {
      this.pending = Buffer.concat([this.pending, bytes]);
      const head = this.tryHead();
      if (!head) return;
      this.headValue = head;
      const rest = this.pending.subarray(head.length);
      this.pending = Buffer.alloc(0);
      if (rest.length > 0) this.image(rest);
      return;
    }
    this.image(bytes);
  }

  /** At the end of the body: every byte there, every chunk and the whole image matching the manifest. */
  finish(): void {
    const head = this.headValue;
    if (!head) throw new PackageRejected(415, 'the upload ended inside the package head');
    if (this.imageBytes !== head.manifest.size) {
      throw new PackageRejected(
        415,
        `image is ${this.imageBytes} bytes, the manifest says ${head.manifest.size}`,
      );
    }
    if (this.chunkFill > 0) this.closeChunk(head.manifest);
    if (this.chunkIndex !== head.manifest.chunks.length) {
      throw new PackageRejected(
        415,
        `the manifest lists ${head.manifest.chunks.length} chunks, the image has ${this.chunkIndex}`,
      );
    }
    const sm3 = this.whole.digest('hex');
    if (sm3 !== head.manifest.sm3.toLowerCase())
      throw new PackageRejected(415, 'image SM3 does not match the manifest');
  }

  private tryHead(): PackageHead | null {
    const b = this.pending;
    if (b.length < FIXED) return null;
    if (b.subarray(0, 4).toString('latin1') !== MAGIC) throw new PackageRejected(415, 'not a .swfw package');
    if (b[4] !== 1) throw new PackageRejected(415, `package container version ${b[4]} is not known`);
    if (b[5] !== 0 || b[6] !== 0 || b[7] !== 0 || b[14] !== 0 || b[15] !== 0) {
      throw new PackageRejected(415, 'reserved header bytes are not zero');
    }
    const manifestLength = b.readUInt32BE(8);
    const signatureLength = b.readUInt16BE(12);
    if (manifestLength < 2 || manifestLength > MAX_MANIFEST) {
      throw new PackageRejected(415, `manifest length ${manifestLength}`);
    }
    if (signatureLength > MAX_SIGNATURE)
      throw new PackageRejected(415, `signature length ${signatureLength}`);
    const length = FIXED + manifestLength + signatureLength;
    if (b.length < length) return null;
    const manifestBytes = Buffer.from(b.subarray(FIXED, FIXED + manifestLength));
    const signature = Buffer.from(b.subarray(FIXED + manifestLength, length));
    return { manifestBytes, manifest: this.readManifest(manifestBytes), signature, length };
  }

  private readManifest(bytes: Buffer): UploadedManifest {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new PackageRejected(415, 'the manifest is no JSON');
    }
    const str = (k: string) => (typeof m[k] === 'string' ? (m[k] as string) : '');
    const strs = (k: string) =>
      Array.isArray(m[k]) && (m[k] as unknown[]).every((x) => typeof x === 'string')
        ? (m[k] as string[])
        : null;
    const int = (k: string) => (Number.isSafeInteger(m[k]) ? (m[k] as number) : -1);
    const models = strs('models');
    const hardware = strs('hardware');
    const chunks = strs('chunks');
    const size = int('size');
    const chunkSize = int('chunkSize');
    if (!models || !hardware || !chunks) throw new PackageRejected(415, 'manifest models/hardware/chunks');
    if (size < 0 || size > this.maxImageBytes)
      throw new PackageRejected(413, `image size ${size} is over what this camera takes`);
    if (chunkSize < 4096 || chunkSize > 1 << 20 || (chunkSize & (chunkSize - 1)) !== 0) {
      throw new PackageRejected(415, `chunk size ${chunkSize}`);
    }
    return {
      format: int('format'),
      family: str('family'),
      models,
      hardware,
      version: str('version'),
      minPreviousVersion: str('minPreviousVersion'),
      size,
      chunkSize,
      sm3: str('sm3'),
      chunks,
      vendorKeyId: str('vendorKeyId'),
    };
  }

  private image(bytes: Buffer): void {
    const manifest = (this.headValue as PackageHead).manifest;
    if (this.imageBytes + bytes.length > manifest.size) {
      throw new PackageRejected(413, `more than the manifest's ${manifest.size} image bytes`);
    }
    this.imageBytes += bytes.length;
    this.whole.update(bytes);
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(manifest.chunkSize - this.chunkFill, bytes.length - at);
      this.chunk.update(bytes.subarray(at, at + take));
      this.chunkFill += take;
      at += take;
      if (this.chunkFill === manifest.chunkSize) this.closeChunk(manifest);
    }
  }

  private closeChunk(manifest: UploadedManifest): void {
    const digest = this.chunk.digest('hex');
    const expected = manifest.chunks[this.chunkIndex];
    if (expected === undefined || digest !== expected.toLowerCase()) {
      throw new PackageRejected(415, `chunk ${this.chunkIndex} SM3 does not match the manifest`);
    }
    this.chunkIndex++;
    this.chunk = createHash('sm3');
    this.chunkFill = 0;
  }
}
