// s3rver.js: starts @20minutes/s3rver (which ships no bin/) for navette's tests.
// Usage: node --openssl-legacy-provider s3rver.js PORT DIR BUCKET...; prints "ready".
// With S3RVER_KEY and S3RVER_CERT (PEM files) it serves https.
'use strict';
const fs = require('fs');
const path = require('path');
const modules = process.env.NAVETTE_NODE_MODULES || path.join(__dirname, 'node_modules');
const S3rver = require(path.join(modules, '@20minutes/s3rver'));

const [port, directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
  ...(process.env.S3RVER_KEY ? {
    key: fs.readFileSync(process.env.S3RVER_KEY),
    cert: fs.readFileSync(process.env.S3RVER_CERT),
  } : {}),
});
server.run().then(() => console.log('ready'), (err) => {
  console.error(err);
  process.exit(1);
});
// Exit cleanly on SIGTERM so the test's cleanup never waits on a stuck server.
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
