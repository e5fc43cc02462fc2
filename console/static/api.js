// The APIs a client uses, called from the browser on the same origin,
// signed with SigV4 when the user has entered credentials (sigv4.js).
import {sign, credentials} from './sigv4.js';

// ApiError carries the service's error type and message.
export class ApiError extends Error {
  constructor(type, message, status) {
    super(type ? `${type}: ${message}` : message);
    this.type = type;
    this.status = status;
  }
}

// send fetches path on this origin, signed for service when the user has
// entered credentials, unsigned otherwise.
export async function send(method, path, headers, body, service) {
  const init = {method, headers: {...headers}};
  if (body !== undefined) init.body = body;
  const c = credentials();
  if (c) Object.assign(init.headers, await sign({method, url: new URL(path, location.href).href, headers, body}, c, service));
  return fetch(path, init);
}

async function rpc(target, op, body, version, service) {
  const resp = await send('POST', '/',
    {'X-Amz-Target': `${target}.${op}`, 'Content-Type': `application/x-amz-json-${version}`},
    JSON.stringify(body || {}), service);
  const text = await resp.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = {message: text}; }
  if (!resp.ok) {
    const type = (data.__type || '').split('#').pop();
    throw new ApiError(type, data.message || data.Message || resp.statusText, resp.status);
  }
  return data;
}

// ddb calls DynamoDB's JSON 1.0 protocol (DynamoDB_20120810.op).
export const ddb = (op, body) => rpc('DynamoDB_20120810', op, body, '1.0', 'dynamodb');
// streams calls DynamoDB Streams (DynamoDBStreams_20120810.op).
// (Streams signs with DynamoDB's service name, as the SDKs do.)
export const streams = (op, body) => rpc('DynamoDBStreams_20120810', op, body, '1.0', 'dynamodb');

// logs calls the CloudWatch Logs subset (JSON 1.1, Logs_20140328.op)
// that serves the functions' log lines.
export const logs = (op, body) => rpc('Logs_20140328', op, body, '1.1', 'logs');

// rest calls a REST route: the Lambda API (signed for lambda) or eddy's
// own under /eddy/ (dead letters, mapping series; signed for eddy).
export async function rest(method, path, body) {
  const headers = {};
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const resp = await send(method, path, headers, payload, path.startsWith('/eddy/') ? 'eddy' : 'lambda');
  const text = await resp.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = {message: text}; }
  if (!resp.ok) {
    const type = resp.headers.get('X-Amzn-ErrorType') || data.__type || '';
    throw new ApiError(type.split(':')[0].split('#').pop(), data.message || data.Message || resp.statusText, resp.status);
  }
  return data;
}

// listTables follows ListTables' pages.
export async function listTables() {
  const names = [];
  let start;
  do {
    const out = await ddb('ListTables', start ? {ExclusiveStartTableName: start} : {});
    names.push(...(out.TableNames || []));
    start = out.LastEvaluatedTableName;
  } while (start);
  return names;
}
