// s3rver.js: starts @20minutes/s3rver (which ships no bin/) for navette's tests.
// Usage: node --openssl-legacy-provider s3rver.js PORT DIR BUCKET...; prints "ready".
// With S3RVER_KEY and S3RVER_CERT (PEM files) it serves https.
// With S3RVER_UPLOADS=1 it also answers ListMultipartUploads and
// AbortMultipartUpload, which s3rver lacks (501 and 405): see uploadsMiddleware.
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
if (process.env.S3RVER_UPLOADS === '1') {
  // Koa composes its middleware when the server starts: first in line.
  server.middleware.unshift(uploadsMiddleware(server.store));
}
server.run().then(() => console.log('ready'), (err) => {
  console.error(err);
  process.exit(1);
});
// Exit cleanly on SIGTERM so the test's cleanup never waits on a stuck server.
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));

// ListMultipartUploads (GET /BUCKET?uploads) and AbortMultipartUpload (DELETE
// /BUCKET/KEY?uploadId=ID), path-style, after Amazon's API reference, over
// s3rver's own store of uploads (BUCKET/._S3rver_uploads/ID/key). A test
// server's addition: no signature check, one page of up to 1000 uploads.
function uploadsMiddleware(store) {
  const fsp = fs.promises;
  const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const uploadsDir = (bucket) => store.getResourcePath(bucket, undefined, 'uploads');
  async function uploads(bucket) {
    const dir = uploadsDir(bucket);
    const ids = await fsp.readdir(dir).catch(() => []);
    const out = [];
    for (const id of ids) {
      const keyFile = path.join(dir, id, 'key');
      const key = await fsp.readFile(keyFile, 'utf8').catch(() => null);
      if (key === null) continue;
      const st = await fsp.stat(keyFile);
      out.push({ key, id, initiated: st.mtime.toISOString() });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1));
  }
  function xml(ctx, status, body) {
    ctx.status = status;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  }
  return async (ctx, next) => {
    const parts = ctx.path.split('/').slice(1).map(decodeURIComponent);
    const bucket = parts[0];
    const key = parts.slice(1).join('/');
    if (ctx.method === 'GET' && bucket && !key && 'uploads' in ctx.query) {
      const prefix = ctx.query.prefix || '';
      const km = ctx.query['key-marker'] || '';
      const im = ctx.query['upload-id-marker'] || '';
      const list = (await uploads(bucket)).filter((u) => u.key.startsWith(prefix) &&
        (!km || u.key > km || (u.key === km && im && u.id > im)));
      const shown = list.slice(0, 1000);
      return xml(ctx, 200, '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${esc(bucket)}</Bucket><KeyMarker>${esc(km)}</KeyMarker>` +
        `<UploadIdMarker>${esc(im)}</UploadIdMarker><Prefix>${esc(prefix)}</Prefix>` +
        `<MaxUploads>1000</MaxUploads><IsTruncated>${list.length > 1000}</IsTruncated>` +
        (list.length > 1000 ? `<NextKeyMarker>${esc(shown[999].key)}</NextKeyMarker>` +
          `<NextUploadIdMarker>${shown[999].id}</NextUploadIdMarker>` : '') +
        shown.map((u) => `<Upload><Key>${esc(u.key)}</Key><UploadId>${u.id}</UploadId>` +
          `<StorageClass>STANDARD</StorageClass><Initiated>${u.initiated}</Initiated></Upload>`).join('') +
        '</ListMultipartUploadsResult>');
    }
    if (ctx.method === 'DELETE' && bucket && key && ctx.query.uploadId) {
      const id = ctx.query.uploadId;
      const u = (await uploads(bucket)).find((x) => x.id === id && x.key === key);
      if (!u || id.includes('/')) {
        return xml(ctx, 404, '<Error><Code>NoSuchUpload</Code><Message>The specified upload ' +
          `does not exist.</Message><UploadId>${esc(id)}</UploadId></Error>`);
      }
      await fsp.rm(path.join(uploadsDir(bucket), id), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    return next();
  };
}
