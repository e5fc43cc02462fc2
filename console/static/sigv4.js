// AWS Signature Version 4 in the browser (WebCrypto's HMAC-SHA256 and
// SHA-256), so the console goes through eddy's authentication as any SDK
// does instead of around it. The credentials are entered once and kept in
// sessionStorage (gone when the tab closes); without them requests go
// unsigned, which eddy accepts unless authentication is on.
//
// The signing follows AWS's published algorithm: canonical request
// (method, the path URI-encoded once more as for every service but S3,
// the sorted query, the signed headers, the payload's SHA-256), string to
// sign, and a key derived from the secret, the date, the region and the
// service. TestConsoleInBrowser checks it against vectors of AWS's SigV4
// test suite and against aws-sdk-go-v2's signer.

const enc = new TextEncoder();
const KEY = 'eddy.credentials';

const hex = buf => Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, '0')).join('');
const bytes = data => typeof data === 'string' ? enc.encode(data) : (data || new Uint8Array());

export async function sha256Hex(data) {
  return hex(await crypto.subtle.digest('SHA-256', bytes(data)));
}

async function hmac(key, data) {
  const k = await crypto.subtle.importKey('raw', bytes(key), {name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, bytes(data)));
}

// uriEncode is SigV4's encoding: every byte but A-Z a-z 0-9 - _ . ~ as %XX
// (uppercase), and '/' too unless keepSlash.
export function uriEncode(s, keepSlash) {
  let out = '';
  for (const b of enc.encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// canonicalQuery sorts the query's pairs by encoded name, then value.
function canonicalQuery(search) {
  if (!search || search === '?') return '';
  const pairs = search.replace(/^\?/, '').split('&').filter(Boolean).map(p => {
    const i = p.indexOf('=');
    const dec = x => decodeURIComponent(x.replace(/\+/g, '%20'));
    const [k, v] = i < 0 ? [dec(p), ''] : [dec(p.slice(0, i)), dec(p.slice(i + 1))];
    return [uriEncode(k, false), uriEncode(v, false)];
  });
  pairs.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const amzDate = d => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

// sign returns the headers to add to a request: X-Amz-Date, the
// Authorization header, and X-Amz-Security-Token with a session token.
// req: {method, url (absolute), headers ({name: value}), body (string or
// bytes)}; creds: {accessKeyId, secretAccessKey, sessionToken, region};
// service names the credential scope; date defaults to now.
export async function sign(req, creds, service, date = new Date()) {
  if (!globalThis.crypto || !crypto.subtle) {
    throw new Error('signing needs WebCrypto, which browsers give only to secure pages: open the console over https or on localhost / 127.0.0.1');
  }
  const url = new URL(req.url);
  const t = amzDate(date);
  const day = t.slice(0, 8);
  const headers = {};
  for (const [k, v] of Object.entries(req.headers || {})) headers[k.toLowerCase()] = String(v);
  headers.host = url.host;
  headers['x-amz-date'] = t;
  if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
  const names = Object.keys(headers).sort();
  const canonHeaders = names.map(n => `${n}:${headers[n].trim().replace(/ +/g, ' ')}\n`).join('');
  const signed = names.join(';');
  // url.pathname is already percent-encoded once; SigV4 encodes it again.
  const path = uriEncode(url.pathname || '/', true);
  const canonical = [req.method.toUpperCase(), path, canonicalQuery(url.search), canonHeaders, signed,
    await sha256Hex(req.body)].join('\n');
  const scope = `${day}/${creds.region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', t, scope, await sha256Hex(canonical)].join('\n');
  let key = await hmac('AWS4' + creds.secretAccessKey, day);
  key = await hmac(key, creds.region);
  key = await hmac(key, service);
  key = await hmac(key, 'aws4_request');
  const sig = hex(await hmac(key, toSign));
  const out = {'X-Amz-Date': t,
    Authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${sig}`};
  if (creds.sessionToken) out['X-Amz-Security-Token'] = creds.sessionToken;
  return out;
}

// credentials returns the credentials the user entered in this tab, or
// null.
export function credentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return c && c.accessKeyId && c.secretAccessKey ? c : null;
  } catch { return null; }
}

export function saveCredentials(c) {
  if (c) sessionStorage.setItem(KEY, JSON.stringify(c));
  else sessionStorage.removeItem(KEY);
}
