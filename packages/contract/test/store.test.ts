// The store rules (store.ts): prefixes, endpoints, URLs redacted for logs, S3 error codes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEndpoint, InvalidValue, normalizePrefix, redactUrl, s3ErrorCode } from '../src/index.ts';

describe('store rules', () => {
  it('normalise prefixes and refuse a leading slash', () => {
    assert.equal(normalizePrefix('team'), 'team/');
    assert.equal(normalizePrefix(''), '');
    assert.throws(() => normalizePrefix('/x'), InvalidValue);
  });

  it('accept http(s) endpoints and refuse credentials, queries and other schemes without echoing secrets', () => {
    assert.equal(checkEndpoint('http://127.0.0.1:9000'), 'http://127.0.0.1:9000');
    for (const bad of ['ftp://h', 'h:9000', 'https://key:s3cret@h', 'https://h/?X-Amz-Signature=s3cret']) {
      assert.throws(
        () => checkEndpoint(bad),
        (e: unknown) => e instanceof InvalidValue && !e.message.includes('s3cret'),
        bad,
      );
    }
  });

  it('redact URLs for logs', () => {
    assert.equal(
      redactUrl('https://key:s3cret@h.example/p?sig=abc&x=1'),
      'https://***:***@h.example/p?sig=***&x=***',
    );
    assert.equal(redactUrl('not a url //u:p@x'), 'not a url //***@x');
    assert.equal(redactUrl('https://h.example/'), 'https://h.example/');
  });

  it('read the code of an SDK error, or a name from its status', () => {
    assert.equal(s3ErrorCode({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }), 'NoSuchKey');
    assert.equal(s3ErrorCode({ Code: 'SlowDown', name: 'Error' }), 'SlowDown');
    assert.equal(s3ErrorCode({ name: 'Unknown', $metadata: { httpStatusCode: 403 } }), 'Forbidden');
    assert.equal(s3ErrorCode({ name: 'Error', $metadata: { httpStatusCode: 412 } }), 'PreconditionFailed');
    assert.equal(s3ErrorCode({ name: 'Error', $metadata: { httpStatusCode: 503 } }), 'HTTP 503');
    assert.equal(s3ErrorCode({ name: 'Error', code: 'ECONNREFUSED' }), 'ECONNREFUSED');
  });
});
