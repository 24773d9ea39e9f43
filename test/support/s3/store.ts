// Buckets, objects and multipart uploads on disk, with an in-memory index.
// Layout under `dir`:
//   .tmp/                                   staging; an object becomes visible by one rename
//   <bucket>/objects/<id>/meta.json + piece files (a completed multipart object keeps its parts as pieces)
//   <bucket>/uploads/<uploadId>/upload.json, part-<n>.json, part-<n>-<rand>.data
// In discard mode no bytes are kept, only the records.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from './errors.ts';

export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

export interface Piece {
  file: string;
  size: number;
}

export interface ObjectRecord {
  key: string;
  id: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  contentEncoding?: string;
  metadata: Record<string, string>;
  /** Base64 checksum S3 would return with `x-amz-checksum-mode: ENABLED`, and its algorithm. */
  checksum?: { algorithm: string; value: string; type: ChecksumType };
  partsCount?: number;
  pieces: Piece[];
}

export interface PartRecord {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: string;
  checksum?: string;
  file?: string;
}

export interface UploadRecord {
  uploadId: string;
  key: string;
  initiated: string;
  contentType: string;
  contentEncoding?: string;
  metadata: Record<string, string>;
  checksumAlgorithm?: string;
  checksumType?: ChecksumType;
}

interface Bucket {
  name: string;
  created: string;
  objects: Map<string, ObjectRecord>;
  uploads: Map<string, { record: UploadRecord; parts: Map<number, PartRecord> }>;
  sortedKeys: string[] | undefined;
}

const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const newId = (): string => randomBytes(12).toString('hex');

export class BucketStore {
  readonly dir: string;
  readonly discard: boolean;
  private readonly buckets = new Map<string, Bucket>();
  /** Keys with a conditional write in flight, so two `If-None-Match: *` writers cannot both win. */
  private readonly pendingCreates = new Set<string>();

  constructor(dir: string, discard = false) {
    this.dir = dir;
    this.discard = discard;
  }

  async load(): Promise<void> {
    await rm(join(this.dir, '.tmp'), { recursive: true, force: true });
    await mkdir(join(this.dir, '.tmp'), { recursive: true });
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !BUCKET_NAME.test(entry.name)) continue;
      const bucket = this.addBucket(entry.name, new Date().toISOString());
      const objectsDir = join(this.dir, entry.name, 'objects');
      for (const id of await readdir(objectsDir).catch(() => [])) {
        const rec = JSON.parse(await readFile(join(objectsDir, id, 'meta.json'), 'utf8')) as ObjectRecord;
        const prev = bucket.objects.get(rec.key);
        if (!prev || prev.lastModified < rec.lastModified) bucket.objects.set(rec.key, rec);
      }
      const uploadsDir = join(this.dir, entry.name, 'uploads');
      for (const id of await readdir(uploadsDir).catch(() => [])) {
        const record = JSON.parse(
          await readFile(join(uploadsDir, id, 'upload.json'), 'utf8'),
        ) as UploadRecord;
        const parts = new Map<number, PartRecord>();
        for (const f of await readdir(join(uploadsDir, id))) {
          if (!/^part-\d+\.json$/.test(f)) continue;
          const part = JSON.parse(await readFile(join(uploadsDir, id, f), 'utf8')) as PartRecord;
          parts.set(part.partNumber, part);
        }
        bucket.uploads.set(id, { record, parts });
      }
    }
  }

  private addBucket(name: string, created: string): Bucket {
    const b: Bucket = { name, created, objects: new Map(), uploads: new Map(), sortedKeys: undefined };
    this.buckets.set(name, b);
    return b;
  }

  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw errors.noSuchBucket(name);
    return b;
  }

  listBuckets(): { name: string; created: string }[] {
    return [...this.buckets.values()].map(({ name, created }) => ({ name, created }));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  async createBucket(name: string): Promise<void> {
    if (!BUCKET_NAME.test(name)) throw errors.invalidBucketName();
    if (this.buckets.has(name)) throw errors.bucketExists();
    await mkdir(join(this.dir, name, 'objects'), { recursive: true });
    await mkdir(join(this.dir, name, 'uploads'), { recursive: true });
    this.addBucket(name, new Date().toISOString());
  }

  async deleteBucket(name: string): Promise<void> {
    const b = this.bucket(name);
    if (b.objects.size > 0 || b.uploads.size > 0) throw errors.bucketNotEmpty();
    this.buckets.delete(name);
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  /** A fresh staging path for incoming bytes, or undefined in discard mode. */
  stagingFile(): string | undefined {
    return this.discard ? undefined : join(this.dir, '.tmp', `${newId()}.data`);
  }

  head(bucketName: string, key: string): ObjectRecord {
    const rec = this.bucket(bucketName).objects.get(key);
    if (!rec) throw errors.noSuchKey(key);
    return rec;
  }

  piecePath(bucketName: string, rec: ObjectRecord, piece: Piece): string {
    return join(this.dir, bucketName, 'objects', rec.id, piece.file);
  }

  /** Keys in S3 order (UTF-8 byte order). */
  sortedKeys(bucketName: string): string[] {
    const b = this.bucket(bucketName);
    b.sortedKeys ??= [...b.objects.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    return b.sortedKeys;
  }

  /** Reserves a key for a conditional create; the returned function releases it. */
  reserveCreate(bucketName: string, key: string): () => void {
    const b = this.bucket(bucketName);
    const token = `${bucketName}/${key}`;
    if (b.objects.has(key) || this.pendingCreates.has(token))
      throw errors.preconditionFailed('If-None-Match');
    this.pendingCreates.add(token);
    return () => this.pendingCreates.delete(token);
  }

  /**
   * Makes an object visible: staged files are moved into one new directory, which is renamed into place.
   * `sources` are absolute paths of staged data, in order (none in discard mode).
   */
  async commitObject(
    bucketName: string,
    rec: Omit<ObjectRecord, 'id' | 'pieces'>,
    sources: { path: string | undefined; size: number }[],
  ): Promise<ObjectRecord> {
    const b = this.bucket(bucketName);
    const id = newId();
    const pieces: Piece[] = sources.map((s, i) => ({ file: `piece-${i + 1}.data`, size: s.size }));
    const full: ObjectRecord = { ...rec, id, pieces };
    const staging = join(this.dir, '.tmp', id);
    await mkdir(staging);
    for (const [i, s] of sources.entries()) {
      if (s.path) await rename(s.path, join(staging, pieces[i]!.file));
    }
    await writeFile(join(staging, 'meta.json'), JSON.stringify(full));
    await rename(staging, join(this.dir, bucketName, 'objects', id));
    const previous = b.objects.get(rec.key);
    b.objects.set(rec.key, full);
    b.sortedKeys = undefined;
    if (previous)
      await rm(join(this.dir, bucketName, 'objects', previous.id), { recursive: true, force: true });
    return full;
  }

  async deleteObject(bucketName: string, key: string): Promise<void> {
    const b = this.bucket(bucketName);
    const rec = b.objects.get(key);
    if (!rec) return; // S3 answers 204 for a missing key too
    b.objects.delete(key);
    b.sortedKeys = undefined;
    await rm(join(this.dir, bucketName, 'objects', rec.id), { recursive: true, force: true });
  }

  async createUpload(
    bucketName: string,
    record: Omit<UploadRecord, 'uploadId' | 'initiated'>,
  ): Promise<UploadRecord> {
    const b = this.bucket(bucketName);
    const full: UploadRecord = { ...record, uploadId: newId(), initiated: new Date().toISOString() };
    const dir = join(this.dir, bucketName, 'uploads', full.uploadId);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'upload.json'), JSON.stringify(full));
    b.uploads.set(full.uploadId, { record: full, parts: new Map() });
    return full;
  }

  upload(
    bucketName: string,
    key: string,
    uploadId: string,
  ): { record: UploadRecord; parts: Map<number, PartRecord> } {
    const u = this.bucket(bucketName).uploads.get(uploadId);
    if (!u || u.record.key !== key) throw errors.noSuchUpload(uploadId);
    return u;
  }

  uploads(bucketName: string): UploadRecord[] {
    return [...this.bucket(bucketName).uploads.values()]
      .map((u) => u.record)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated < b.initiated ? -1 : 1));
  }

  async putPart(
    bucketName: string,
    key: string,
    uploadId: string,
    part: PartRecord,
    staged: string | undefined,
  ) {
    const u = this.upload(bucketName, key, uploadId);
    const dir = join(this.dir, bucketName, 'uploads', uploadId);
    const record: PartRecord = { ...part };
    if (staged) {
      record.file = `part-${part.partNumber}-${newId()}.data`;
      await rename(staged, join(dir, record.file));
    }
    const jsonTmp = join(this.dir, '.tmp', `${newId()}.json`);
    await writeFile(jsonTmp, JSON.stringify(record));
    await rename(jsonTmp, join(dir, `part-${part.partNumber}.json`));
    const previous = u.parts.get(part.partNumber);
    u.parts.set(part.partNumber, record);
    if (previous?.file) await rm(join(dir, previous.file), { force: true });
  }

  partPath(bucketName: string, uploadId: string, part: PartRecord): string | undefined {
    return part.file ? join(this.dir, bucketName, 'uploads', uploadId, part.file) : undefined;
  }

  async removeUpload(bucketName: string, uploadId: string): Promise<void> {
    this.bucket(bucketName).uploads.delete(uploadId);
    await rm(join(this.dir, bucketName, 'uploads', uploadId), { recursive: true, force: true });
  }
}
