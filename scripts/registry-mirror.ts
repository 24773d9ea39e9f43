// A plain-HTTP npm registry mirror on loopback that forwards to https://registry.npmjs.org with this host's
// trust store (NODE_EXTRA_CA_CERTS): what an internal mirror is to a build behind a TLS-inspecting proxy.
// Prints {"registry":"http://127.0.0.1:<port>/"} when ready. `node scripts/registry-mirror.ts`
import { createServer } from 'node:http';
import { request } from 'node:https';

const upstream = new URL(process.env.UPSTREAM_REGISTRY ?? 'https://registry.npmjs.org/');
const server = createServer((req, res) => {
  const headers = { ...req.headers, host: upstream.host };
  const out = request(
    { protocol: upstream.protocol, hostname: upstream.hostname, path: req.url, method: req.method, headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`mirror: ${e.message}\n`);
  });
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ registry: `http://127.0.0.1:${port}/` })}\n`);
});
