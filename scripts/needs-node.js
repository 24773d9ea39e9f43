// `npm pack` / `npm run build` of a package: the build runs TypeScript directly (scripts/bundle.ts), which
// Node does from 22.18 on; an older one gets this line instead of an ERR_UNKNOWN_FILE_EXTENSION stack trace.
// Plain JavaScript on purpose: it must run on the Node it refuses.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `building this package needs Node.js 22.18 or newer (it runs TypeScript directly); this is Node.js ${process.version}: ` +
      'run it with scripts/with-node24 (e.g. scripts/with-node24 npm pack -w packages/cli)\n',
  );
  process.exit(1);
}
