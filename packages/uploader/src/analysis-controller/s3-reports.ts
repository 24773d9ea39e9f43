// The controller's and the Jobs' store: a HEAD for "is there a report", a GET of a summary, a PUT of a report.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type AnalysisReport, s3HttpStatus } from '@kube-heapdump/contract';
import type { ReportStore } from './controller.ts';

export class S3Reports implements ReportStore {
  private readonly s3: S3Client;
  private readonly bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (s3HttpStatus(err) === 404) return false;
      throw err;
    }
  }

  async getJson(key: string): Promise<unknown> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse((await res.Body?.transformToString('utf8')) ?? '');
    } catch (err) {
      if (s3HttpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async putJson(key: string, value: AnalysisReport): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: `${JSON.stringify(value, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    );
  }
}
