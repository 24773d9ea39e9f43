#!/usr/bin/env node
// The strict S3-compatible test server as a command:
//   node test/support/s3-server.ts --dir D [--port P] [--host H] [--region R] [--bucket B]...
//        [--access-key ID --secret-key S] [--policy FILE.json] [--rate 125MB/s] [--discard [--trust-payload]]
//        [--request-rate 40MB/s] [--latency 20]
// Prints one JSON line {"endpoint":...} when ready; stops on SIGINT/SIGTERM.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseRate } from './s3/rate-limit.ts';
import { DEFAULT_CREDENTIAL, type S3Credential, startS3Server } from './s3/server.ts';

const usage = `usage: s3-server --dir DIR [--port 0] [--host 127.0.0.1] [--region us-east-1] [--bucket NAME]...
                 [--access-key ID --secret-key SECRET [--policy policy.json]] [--rate 125MB/s]
                 [--discard [--trust-payload]] [--request-rate 40MB/s] [--latency MS]`;

function main(): Promise<void> | void {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  if (!values.dir) return fail('--dir is required');
  if (Boolean(values['access-key']) !== Boolean(values['secret-key'])) {
    return fail('--access-key and --secret-key go together');
  }
  const credential: S3Credential = values['access-key']
    ? { accessKeyId: values['access-key'], secretAccessKey: values['secret-key']! }
    : DEFAULT_CREDENTIAL;
  try {
    if (values.policy) credential.policy = JSON.parse(readFileSync(values.policy, 'utf8'));
    const rate = values.rate ? parseRate(values.rate) : undefined;
    const requestRate = values['request-rate'] ? parseRate(values['request-rate']) : undefined;
    const latency = values.latency === undefined ? undefined : Number(values.latency);
    if (latency !== undefined && !(Number.isFinite(latency) && latency >= 0))
      return fail(`--latency ${values.latency} is not a number of milliseconds`);
    if (values['trust-payload'] && !values.discard) return fail('--trust-payload needs --discard');
    const port = Number(values.port ?? 0);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      return fail(`--port ${values.port} is not a port number`);
    return startS3Server({
      dir: values.dir,
      port,
      host: values.host,
      region: values.region,
      buckets: values.bucket,
      credentials: [credential],
      rateBytesPerSecond: rate,
      discard: values.discard,
      trustPayload: values['trust-payload'],
      requestBytesPerSecond: requestRate,
      latencyMs: latency,
    }).then(
      (server) => {
        console.log(
          JSON.stringify({
            endpoint: server.endpoint,
            region: server.region,
            accessKeyId: credential.accessKeyId,
          }),
        );
        const stop = () => void server.stop().then(() => process.exit(0));
        process.once('SIGINT', stop).once('SIGTERM', stop);
      },
      (err: Error) => fail(err.message),
    );
  } catch (err) {
    return fail((err as Error).message);
  }
}

function parse() {
  return parseArgs({
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      bucket: { type: 'string', multiple: true },
      'access-key': { type: 'string' },
      'secret-key': { type: 'string' },
      policy: { type: 'string' },
      rate: { type: 'string' },
      discard: { type: 'boolean' },
      'trust-payload': { type: 'boolean' },
      'request-rate': { type: 'string' },
      latency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}

function fail(message: string): void {
  console.error(`s3-server: ${message}\n${usage}`);
  process.exitCode = 2;
}

void main();
