// Prometheus metrics and health, served on HEAPDUMP_METRICS_PORT at /metrics and /healthz.
import { createServer, type Server } from 'node:http';

const UPLOAD_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800];

export class Metrics {
  bytesUploaded = 0;
  readonly shipped = new Map<string, number>();
  failed = 0;
  /** Files in the dump directory refused (links, FIFOs, devices, directories, other owners, too large). */
  refused = 0;
  readonly s3Errors = new Map<string, number>();
  inProgress = 0;
  private readonly uploadSeconds = { buckets: UPLOAD_BUCKETS.map(() => 0), sum: 0, count: 0 };

  dumpShipped(verdict: string, seconds: number): void {
    this.shipped.set(verdict, (this.shipped.get(verdict) ?? 0) + 1);
    this.uploadSeconds.sum += seconds;
    this.uploadSeconds.count++;
    UPLOAD_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.uploadSeconds.buckets[i]!++;
    });
  }

  s3Error(code: string): void {
    this.s3Errors.set(code, (this.s3Errors.get(code) ?? 0) + 1);
  }

  render(): string {
    const m = 'heapdump_uploader';
    const lines = [
      `# HELP ${m}_bytes_uploaded_total Bytes sent to object storage (as stored, after compression).`,
      `# TYPE ${m}_bytes_uploaded_total counter`,
      `${m}_bytes_uploaded_total ${this.bytesUploaded}`,
      `# HELP ${m}_dumps_shipped_total Files stored: heap dumps by HPROF verdict, other files by kind (hs-err, jfr).`,
      `# TYPE ${m}_dumps_shipped_total counter`,
      ...[...this.shipped].map(([v, n]) => `${m}_dumps_shipped_total{verdict="${v}"} ${n}`),
      `# HELP ${m}_dumps_failed_total Dumps whose shipping stopped with an error (the file is kept and retried).`,
      `# TYPE ${m}_dumps_failed_total counter`,
      `${m}_dumps_failed_total ${this.failed}`,
      `# HELP ${m}_files_refused_total Files in the dump directory not read: not a regular dump file the uploader may read.`,
      `# TYPE ${m}_files_refused_total counter`,
      `${m}_files_refused_total ${this.refused}`,
      `# HELP ${m}_s3_errors_total Failed S3 calls, by error code.`,
      `# TYPE ${m}_s3_errors_total counter`,
      ...[...this.s3Errors].map(([c, n]) => `${m}_s3_errors_total{code="${c}"} ${n}`),
      `# HELP ${m}_dumps_in_progress Dumps being followed or uploaded now.`,
      `# TYPE ${m}_dumps_in_progress gauge`,
      `${m}_dumps_in_progress ${this.inProgress}`,
      `# HELP ${m}_upload_seconds From first byte seen to object durable.`,
      `# TYPE ${m}_upload_seconds histogram`,
      ...UPLOAD_BUCKETS.map(
        (le, i) => `${m}_upload_seconds_bucket{le="${le}"} ${this.uploadSeconds.buckets[i]}`,
      ),
      `${m}_upload_seconds_bucket{le="+Inf"} ${this.uploadSeconds.count}`,
      `${m}_upload_seconds_sum ${this.uploadSeconds.sum}`,
      `${m}_upload_seconds_count ${this.uploadSeconds.count}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}

export async function serveMetrics(metrics: Metrics, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(metrics.render());
    } else if (req.url === '/healthz') {
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ status: 'ok', inProgress: metrics.inProgress }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

/** CPU time of the whole process so far (user + system), for the log: what shipping costs. */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1e4) / 100;
}
