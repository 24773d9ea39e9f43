import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';

const [mode, hwmArg, partArg] = process.argv.slice(2);
const c = new S3Client({
  endpoint: 'http://127.0.0.1:9913',
  region: 'us-east-1',
  forcePathStyle: true,
  maxAttempts: 1,
  credentials: { accessKeyId: 'AKIAKUBEHEAPDUMPTEST', secretAccessKey: 'kube-heapdump-test-secret-key' },
});
const fh = await open('/tmp/kube-heapdump-bench/objects-2g.hprof');
const size = 1024 * 1024 * 1024;
const part = Number(partArg) << 20;
const hwm = Number(hwmArg) << 10;
const { UploadId } = await c.send(
  new CreateMultipartUploadCommand({ Bucket: 'dumps', Key: 'x', ChecksumAlgorithm: 'CRC32' }),
);
const t = performance.now();
let next = 0;
await Promise.all(
  [0, 1, 2, 3].map(async () => {
    for (let n; (n = next++) * part < size; ) {
      const start = n * part;
      let Body: Readable;
      if (mode === 'fh')
        Body = fh.createReadStream({ start, end: start + part - 1, autoClose: false, highWaterMark: hwm });
      else {
        const b = Buffer.allocUnsafe(part);
        await fh.read(b, 0, part, start);
        Body = Readable.from([b]);
      }
      await c.send(
        new UploadPartCommand({
          Bucket: 'dumps',
          Key: 'x',
          UploadId,
          PartNumber: n + 1,
          Body,
          ContentLength: part,
          ChecksumAlgorithm: 'CRC32',
        }),
      );
    }
  }),
);
const cpu = process.cpuUsage();
console.log(
  mode,
  'hwm KiB',
  hwmArg,
  'part MiB',
  partArg,
  'MB/s',
  Math.round(size / 1e6 / ((performance.now() - t) / 1000)),
  'client cpu s',
  ((cpu.user + cpu.system) / 1e6).toFixed(1),
);
