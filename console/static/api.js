// The APIs a client uses, called from the browser on the same origin.

// ApiError carries the service's error type and message.
export class ApiError extends Error {
  constructor(type, message, status) {
    super(type ? `${type}: ${message}` : message);
    this.type = type;
    this.status = status;
  }
}

async function rpc(target, op, body, version = '1.0') {
  const resp = await fetch('/', {
    method: 'POST',
    headers: {'X-Amz-Target': `${target}.${op}`, 'Content-Type': `application/x-amz-json-${version}`},
    body: JSON.stringify(body || {}),
  });
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
export const ddb = (op, body) => rpc('DynamoDB_20120810', op, body);
// streams calls DynamoDB Streams (DynamoDBStreams_20120810.op).
export const streams = (op, body) => rpc('DynamoDBStreams_20120810', op, body);

// logs calls the CloudWatch Logs subset (JSON 1.1, Logs_20140328.op)
// that serves the functions' log lines.
export const logs = (op, body) => rpc('Logs_20140328', op, body, '1.1');

// rest calls a REST route (the Lambda API, the dead-letter API).
export async function rest(method, path, body) {
  const init = {method, headers: {}};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
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
