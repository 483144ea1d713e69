// faultproxy.js: a fault-injecting HTTP proxy for navette's tests, put between
// navette and s3rver or Azurite (plain http on loopback). Started by faultproxy.sh.
//
// Usage: node faultproxy.js --upstream http://127.0.0.1:PORT [--rules FILE]
//                           [--log FILE] [--port N]
// Listens on 127.0.0.1 (port 0 unless --port: the kernel picks a free one) and
// prints "ready PORT" once listening. Rules come from --rules FILE (a JSON array,
// re-read whenever the file is replaced or rewritten, so a test may change them
// between runs) or the FAULTPROXY_RULES environment variable (the same JSON), and
// can be replaced at run time: PUT /__faultproxy/rules with the JSON array.
//
// Every request is matched against the rules in order; the first rule that
// matches AND fires decides. A request no rule fires for is passed through
// unchanged (streamed both ways). A rule:
//   name      shown in the request log, no spaces (default "ruleN", N from 0)
//   method    exact method (GET, PUT, ...); any when absent
//   path      regex on the raw (percent-encoded) path, without the query
//   query     regex on the raw query string (without the "?")
//   match_headers  {"header-name": "regex"} all of which must match
//   skip      let the first `skip` matching requests through (default 0)
//   times     then fire on this many matching requests, no more
//   every     or fire on every Nth matching request (the Nth, 2Nth, ...);
//             with `times` too, at most `times` firings. Neither: every match.
//   action    what firing does:
//     respond           answer status/headers/body without asking upstream
//                       ("forward": true sends the request upstream first and
//                       drops its answer: the server did the work, the client
//                       hears otherwise)
//     reset             drop the connection before answering
//     cut               pass the upstream answer's headers and the first
//                       `bytes` bytes of its body (default half; always short
//                       of the whole), then drop the connection
//     corrupt_request   flip one byte of the request body on its way upstream
//                       (`offset`, default the middle)
//     corrupt_response  flip one byte of the upstream answer's body
//     rewrite           apply `replace` ([[regex, replacement], ...], global) to
//                       the upstream answer's body (`status` may replace its status)
//     delay             wait `ms` milliseconds, then pass through
//   status, headers, body, body_file   the answer of respond (body_file: read
//             at each firing); in body, {{n}} is this rule's firing count (1,
//             2, ...) and {{q:NAME}} the request's query parameter NAME
//             (decoded, XML-escaped), so that an answer can vary per page
//   preset    fills status/headers/body, each overridable: "s3-slowdown" (503
//             SlowDown), "s3-internal" (500 InternalError), "s3-unavailable" (503
//             ServiceUnavailable), "azure-busy" (503 ServerBusy), "azure-internal"
//             (500 InternalError)
//
// Request log (--log FILE), one line per request once its fate is known:
//   METHOD PATH[?QUERY] STATUS RULE
// STATUS is the status sent, or "reset", "cut" or "error"; RULE is the rule's
// name or "-" when passed through. Tests count lines with grep. The same log
// and the rules with their counters (seen, fired) are served as JSON:
//   GET /__faultproxy/log   GET /__faultproxy/rules   PUT /__faultproxy/rules
//   DELETE /__faultproxy/log (clears it)
// Node's own modules only: no npm package.
'use strict';
const http = require('http');
const fs = require('fs');

const PRESETS = {
  's3-slowdown': { status: 503, headers: { 'Retry-After': '1' },
    body: s3Error('SlowDown', 'Please reduce your request rate.') },
  's3-internal': { status: 500, body: s3Error('InternalError', 'We encountered an internal error. Please try again.') },
  's3-unavailable': { status: 503, body: s3Error('ServiceUnavailable', 'Service is unable to handle request.') },
  'azure-busy': { status: 503, headers: { 'x-ms-error-code': 'ServerBusy' },
    body: azError('ServerBusy', 'The server is currently unable to receive requests. Please retry your request.') },
  'azure-internal': { status: 500, headers: { 'x-ms-error-code': 'InternalError' },
    body: azError('InternalError', 'The server encountered an internal error. Please retry the request.') },
};
const ACTIONS = new Set(['respond', 'reset', 'cut', 'corrupt_request', 'corrupt_response',
  'rewrite', 'delay']);
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection',
  'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

function s3Error(code, message) {
  return '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code + '</Code><Message>' +
    message + '</Message><RequestId>faultproxy</RequestId></Error>';
}
function azError(code, message) {
  return '<?xml version="1.0" encoding="utf-8"?><Error><Code>' + code + '</Code><Message>' +
    message + '\nRequestId:faultproxy\nTime:' + new Date().toISOString() + '</Message></Error>';
}
function xmlEscape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

// ---- arguments ----
const opts = { port: 0, upstream: null, rules: null, log: null };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, ''), v = process.argv[i + 1];
  if (!(k in opts) || v === undefined) {
    console.error('faultproxy: usage: --upstream URL [--rules FILE] [--log FILE] [--port N]');
    process.exit(2);
  }
  opts[k] = v;
}
if (!opts.upstream) {
  console.error('faultproxy: --upstream is required');
  process.exit(2);
}
const upstream = new URL(opts.upstream);
const agent = new http.Agent({ keepAlive: true });

// ---- rules ----
let rules = [];
let rulesStamp = '';

// Checks and compiles a JSON array of rules; throws with a message on error.
function compile(list) {
  if (!Array.isArray(list)) throw new Error('rules must be a JSON array');
  return list.map((r, i) => {
    const action = r.action || 'respond';
    if (!ACTIONS.has(action)) throw new Error(`rule ${i}: unknown action '${action}'`);
    if (r.preset && !PRESETS[r.preset]) throw new Error(`rule ${i}: unknown preset '${r.preset}'`);
    const hdrs = {};
    for (const [n, re] of Object.entries(r.match_headers || {})) hdrs[n.toLowerCase()] = new RegExp(re);
    const p = r.preset ? PRESETS[r.preset] : {};
    return {
      src: r, name: r.name || `rule${i}`, action,
      method: r.method ? String(r.method).toUpperCase() : null,
      path: r.path !== undefined ? new RegExp(r.path) : null,
      query: r.query !== undefined ? new RegExp(r.query) : null,
      hdrs,
      skip: r.skip || 0, times: r.times, every: r.every,
      status: r.status || p.status || (action === 'respond' ? 500 : undefined),
      headers: Object.assign({}, p.headers || {}, r.headers || {}),
      body: r.body !== undefined ? String(r.body) : p.body, bodyFile: r.body_file,
      forward: !!r.forward, bytes: r.bytes, offset: r.offset, ms: r.ms || 0,
      replace: (r.replace || []).map(([re, to]) => [new RegExp(re, 'g'), to]),
      seen: 0, fired: 0,
    };
  });
}

function loadRulesFile() {
  let st;
  try { st = fs.statSync(opts.rules); } catch (e) { return; }
  const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  if (stamp === rulesStamp) return;
  try {
    rules = compile(JSON.parse(fs.readFileSync(opts.rules, 'utf8')));
    rulesStamp = stamp;
  } catch (e) {
    console.error(`faultproxy: ${opts.rules}: ${e.message} (previous rules kept)`);
    rulesStamp = stamp;
  }
}

if (process.env.FAULTPROXY_RULES) rules = compile(JSON.parse(process.env.FAULTPROXY_RULES));
if (opts.rules) loadRulesFile();

function matches(r, req, path, query) {
  if (r.method && r.method !== req.method) return false;
  if (r.path && !r.path.test(path)) return false;
  if (r.query && !r.query.test(query)) return false;
  for (const [n, re] of Object.entries(r.hdrs)) {
    const v = req.headers[n];
    if (v === undefined || !re.test(String(v))) return false;
  }
  return true;
}

// Counts the match; 1 when the rule fires on it.
function fires(r) {
  r.seen++;
  const k = r.seen - r.skip;
  if (k <= 0) return false;
  if (r.times !== undefined && r.fired >= r.times) return false;
  if (r.every && k % r.every !== 0) return false;
  r.fired++;
  return true;
}

function pick(req, path, query) {
  if (opts.rules) loadRulesFile();
  for (const r of rules) if (matches(r, req, path, query) && fires(r)) return r;
  return null;
}

// ---- request log ----
const log = [];
function record(req, status, rule) {
  const e = { method: req.method, url: req.url, status: String(status),
    rule: rule ? rule.name : '-' };
  log.push(e);
  if (opts.log) fs.appendFileSync(opts.log, `${e.method} ${e.url} ${e.status} ${e.rule}\n`);
}

// ---- helpers ----
function readAll(stream, cb) {
  const parts = [];
  stream.on('data', (d) => parts.push(d));
  stream.on('end', () => cb(Buffer.concat(parts)));
  stream.on('error', () => cb(Buffer.concat(parts)));
}

function endToEnd(headers) {
  const out = {};
  for (const [n, v] of Object.entries(headers)) if (!HOP.has(n.toLowerCase())) out[n] = v;
  return out;
}

function flip(buf, offset) {
  if (!buf.length) return buf;
  let at = offset === undefined ? Math.floor(buf.length / 2) : offset;
  if (at < 0) at += buf.length;
  at = Math.max(0, Math.min(buf.length - 1, at));
  buf[at] ^= 0xff;
  return buf;
}

function render(r, query) {
  let body = r.bodyFile ? fs.readFileSync(r.bodyFile, 'utf8') : (r.body || '');
  const params = new URLSearchParams(query);
  body = body.replace(/\{\{n\}\}/g, String(r.fired))
    .replace(/\{\{q:([^}]*)\}\}/g, (_, name) => xmlEscape(params.get(name) || ''));
  return Buffer.from(body, 'utf8');
}

// A reset drops the connection with an RST; a cut closes it (FIN) after the
// partial body, so the client sees a short read rather than a reset.
function drop(res, hard) {
  const s = res.socket;
  if (!s) return;
  if (hard && typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
  else s.destroy();
}

// Sends the request upstream (body given, or streamed from req when null) and
// calls back with the upstream response, or null on a transport error.
function toUpstream(req, body, cb) {
  const headers = endToEnd(req.headers);
  if (body) headers['content-length'] = String(body.length);
  const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method,
    path: req.url, headers, agent }, (ur) => cb(ur));
  up.on('error', (e) => {
    console.error(`faultproxy: upstream ${req.method} ${req.url}: ${e.message}`);
    cb(null);
  });
  if (body) up.end(body);
  else req.pipe(up);
}

function badGateway(req, res, rule) {
  record(req, 'error', rule);
  if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
  res.end('faultproxy: upstream failed\n');
}

// ---- actions ----
function passThrough(req, res, rule) {
  toUpstream(req, null, (ur) => {
    if (!ur) return badGateway(req, res, rule);
    record(req, ur.statusCode, rule);
    res.writeHead(ur.statusCode, ur.statusMessage, endToEnd(ur.headers));
    ur.pipe(res);
  });
}

function respond(req, res, r, query) {
  const answer = () => {
    const body = render(r, query);
    const headers = Object.assign({ 'content-length': String(body.length) }, r.headers);
    if (body.length && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = body[0] === 0x3c ? 'application/xml' : 'text/plain';
    record(req, r.status, r);
    res.writeHead(r.status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (r.forward) {
    toUpstream(req, null, (ur) => {
      if (!ur) return badGateway(req, res, r);
      ur.resume();
      ur.on('end', answer);
    });
  } else {
    req.resume();
    req.on('end', answer);
  }
}

// The upstream answer read whole, then changed by the rule.
function transformed(req, res, r, body) {
  toUpstream(req, body, (ur) => {
    if (!ur) return badGateway(req, res, r);
    readAll(ur, (data) => {
      const headers = endToEnd(ur.headers);
      let status = ur.statusCode;
      if (r.action === 'corrupt_response') data = flip(data, r.offset);
      if (r.action === 'rewrite') {
        let s = data.toString('utf8');
        for (const [re, to] of r.replace) s = s.replace(re, to);
        data = Buffer.from(s, 'utf8');
        if (r.status) status = r.status;
      }
      if (req.method !== 'HEAD') headers['content-length'] = String(data.length);
      if (r.action === 'cut') {
        const n = Math.max(0, Math.min(data.length - 1,
          r.bytes === undefined ? Math.floor(data.length / 2) : r.bytes));
        record(req, 'cut', r);
        res.writeHead(status, ur.statusMessage, headers);
        res.write(data.subarray(0, n), () => drop(res));
        return;
      }
      record(req, status, r);
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  });
}

function act(req, res, r, query) {
  switch (r.action) {
  case 'respond': return respond(req, res, r, query);
  case 'reset':
    record(req, 'reset', r);
    return drop(res, true);
  case 'delay': return setTimeout(() => passThrough(req, res, r), r.ms);
  case 'corrupt_request':
    return readAll(req, (body) => transformed(req, res, r, flip(body, r.offset)));
  default: // cut, corrupt_response, rewrite
    return readAll(req, (body) => transformed(req, res, r, body));
  }
}

// ---- control endpoint ----
function control(req, res, path) {
  const json = (status, v) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(v) + '\n');
  };
  if (path === '/__faultproxy/log' && req.method === 'GET') return json(200, log);
  if (path === '/__faultproxy/log' && req.method === 'DELETE') {
    log.length = 0;
    return json(200, {});
  }
  if (path === '/__faultproxy/rules' && req.method === 'GET')
    return json(200, rules.map((r) => Object.assign({}, r.src, { seen: r.seen, fired: r.fired })));
  if (path === '/__faultproxy/rules' && req.method === 'PUT') {
    return readAll(req, (body) => {
      try {
        rules = compile(JSON.parse(body.toString('utf8')));
        json(200, { rules: rules.length });
      } catch (e) {
        json(400, { error: e.message });
      }
    });
  }
  return json(404, { error: 'unknown control request' });
}

const server = http.createServer((req, res) => {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  if (path.startsWith('/__faultproxy/')) return control(req, res, path);
  const r = pick(req, path, query);
  if (!r) return passThrough(req, res, null);
  return act(req, res, r, query);
});
server.keepAliveTimeout = 30000;
server.listen(Number(opts.port), '127.0.0.1', () => {
  console.log(`ready ${server.address().port}`);
});
// Exit at once on SIGTERM: the test's cleanup must never wait on open sockets.
process.on('SIGTERM', () => process.exit(0));
