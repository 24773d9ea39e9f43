#!/usr/bin/env python3
"""Probes how a running `scripts/rgw` gateway behaves; prints one line per fact (docs/rgw-facts.md).

  scripts/rgw start /tmp/rgw > /tmp/rgw.json && python3 scripts/rgw-probes/probe.py /tmp/rgw.json

boto3 (with checksums only when required, so that each probe sends exactly the headers it names) for the
S3 calls; raw HTTP with our own SigV4 for the aws-chunked bodies, which boto3 will not send as asked.
"""
import base64, binascii, datetime, hashlib, hmac, http.client, json, sys, urllib.parse, urllib.request, uuid
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

rgw = json.load(open(sys.argv[1]))
ENDPOINT, REGION, BUCKET = rgw['endpoint'], rgw['region'], rgw['bucket']
HOST = urllib.parse.urlparse(ENDPOINT).netloc
MiB = 1024 * 1024
run = uuid.uuid4().hex[:8]  # keys of this run, so that the probes can run again against the same gateway


def client(cred, region=REGION, style='path', endpoint=ENDPOINT):
    return boto3.client(
        's3', endpoint_url=endpoint, region_name=region, aws_access_key_id=cred['accessKeyId'],
        aws_secret_access_key=cred['secretAccessKey'],
        config=Config(s3={'addressing_style': style}, signature_version='s3v4', retries={'max_attempts': 1},
                      request_checksum_calculation='when_required', response_checksum_validation='when_required'))


owner, put_only = client(rgw['owner']), client(rgw['putOnly'])


def outcome(fn, *args, **kw):
    """'200' or '412 PreconditionFailed': the HTTP status and error code of one call."""
    try:
        return str(fn(*args, **kw)['ResponseMetadata']['HTTPStatusCode'])
    except ClientError as e:
        return f"{e.response['ResponseMetadata']['HTTPStatusCode']} {e.response['Error'].get('Code')}"


def fact(name, value):
    print(f'{name}: {value}', flush=True)


def body(key, s3=owner):
    return s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def mpu(s3, key, parts, **complete):
    """Uploads parts (bytes each) as one multipart upload and completes it; returns (upload id, outcome)."""
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']
    done = [{'PartNumber': n, 'ETag': s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n,
                                                      Body=p)['ETag']} for n, p in enumerate(parts, 1)]
    return uid, outcome(s3.complete_multipart_upload, Bucket=BUCKET, Key=key, UploadId=uid,
                        MultipartUpload={'Parts': done}, **complete)


# b. If-None-Match: * on an existing key
k = f'b/{run}'
owner.put_object(Bucket=BUCKET, Key=k, Body=b'first')
_, r = mpu(owner, k, [b'second'], IfNoneMatch='*')
fact('b CompleteMultipartUpload If-None-Match:* on existing key', f'{r}; object now {body(k)!r}')
r = outcome(owner.put_object, Bucket=BUCKET, Key=k, Body=b'third', IfNoneMatch='*')
fact('b PutObject If-None-Match:* on existing key', f'{r}; object now {body(k)!r}')
r = outcome(owner.put_object, Bucket=BUCKET, Key=f'{k}-new', Body=b'x', IfNoneMatch='*')
fact('b PutObject If-None-Match:* on new key', r)
_, r = mpu(owner, f'{k}-newmpu', [b'x'], IfNoneMatch='*')
fact('b CompleteMultipartUpload If-None-Match:* on new key', r)

# c. Content-MD5
k = f'c/{run}'
uid = owner.create_multipart_upload(Bucket=BUCKET, Key=k)['UploadId']
part = b'p' * MiB
fact('c UploadPart wrong Content-MD5', outcome(owner.upload_part, Bucket=BUCKET, Key=k, UploadId=uid,
                                               PartNumber=1, Body=part, ContentMD5=b64md5(b'other')))
fact('c UploadPart right Content-MD5', outcome(owner.upload_part, Bucket=BUCKET, Key=k, UploadId=uid,
                                               PartNumber=1, Body=part, ContentMD5=b64md5(part)))
owner.abort_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid)
fact('c PutObject wrong Content-MD5',
     outcome(owner.put_object, Bucket=BUCKET, Key=k, Body=b'data', ContentMD5=b64md5(b'other')))
fact('c PutObject right Content-MD5',
     outcome(owner.put_object, Bucket=BUCKET, Key=k, Body=b'data', ContentMD5=b64md5(b'data')))


# d. x-amz-checksum-crc32 (boto3 sends the value we give as a header, since checksums are 'when_required')
def crc32(data):
    return base64.b64encode(binascii.crc32(data).to_bytes(4, 'big')).decode()


k = f'd/{run}'
uid = owner.create_multipart_upload(Bucket=BUCKET, Key=k)['UploadId']
fact('d UploadPart wrong x-amz-checksum-crc32', outcome(owner.upload_part, Bucket=BUCKET, Key=k, UploadId=uid,
                                                        PartNumber=1, Body=part, ChecksumCRC32=crc32(b'x')))
owner.abort_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid)
fact('d PutObject wrong x-amz-checksum-crc32',
     outcome(owner.put_object, Bucket=BUCKET, Key=k, Body=b'data', ChecksumCRC32=crc32(b'x')))
uid = owner.create_multipart_upload(Bucket=BUCKET, Key=k, ChecksumAlgorithm='CRC32',
                                    ChecksumType='FULL_OBJECT')['UploadId']
etag = owner.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=1, Body=part,
                         ChecksumCRC32=crc32(part))['ETag']
r = outcome(owner.complete_multipart_upload, Bucket=BUCKET, Key=k, UploadId=uid, ChecksumCRC32=crc32(b'x'),
            ChecksumType='FULL_OBJECT', MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': etag}]})
fact('d CompleteMultipartUpload wrong FULL_OBJECT x-amz-checksum-crc32', r)
h = owner.head_object(Bucket=BUCKET, Key=k, ChecksumMode='ENABLED')
fact('d HeadObject ChecksumMode=ENABLED returns a checksum',
     {n: h[n] for n in h if n.startswith('Checksum')} or 'none')


# e. aws-chunked bodies, sent raw with our own SigV4
def sigv4(method, path, headers, payload_hash, cred=rgw['owner']):
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    h = {k.lower(): v for k, v in headers.items()}
    h.update({'host': HOST, 'x-amz-date': now, 'x-amz-content-sha256': payload_hash})
    names = sorted(h)
    canonical = '\n'.join([method, urllib.parse.quote(path), '', ''.join(f'{n}:{h[n]}\n' for n in names),
                           ';'.join(names), payload_hash])
    scope = f'{now[:8]}/{REGION}/s3/aws4_request'
    key = ('AWS4' + cred['secretAccessKey']).encode()
    for part in (now[:8], REGION, 's3', 'aws4_request'):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', now, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    h['authorization'] = (f"AWS4-HMAC-SHA256 Credential={cred['accessKeyId']}/{scope}, "
                          f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return h, key, sig, now, scope


def send(method, path, headers, data, content_length):
    """Sends data with Content-Length, or without it as HTTP chunks (Transfer-Encoding: chunked)."""
    conn = http.client.HTTPConnection(HOST, timeout=30)
    if content_length:
        headers['content-length'] = str(len(data))
        conn.request(method, path, body=data, headers=headers)
    else:
        conn.request(method, path, body=iter([data]), headers=headers, encode_chunked=True)
    resp = conn.getresponse()
    text = resp.read().decode(errors='replace')
    code = text.split('<Code>')[1].split('</Code>')[0] if '<Code>' in text else ''
    return f'{resp.status} {code}'.strip()


payload = b'hello aws-chunked ' * 1000


def unsigned_trailer(key, content_length):
    framed = (f'{len(payload):x}\r\n'.encode() + payload + b'\r\n0\r\n'
              + f'x-amz-checksum-crc32:{crc32(payload)}\r\n\r\n'.encode())
    h, *_ = sigv4('PUT', key, {'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32',
                                'x-amz-decoded-content-length': str(len(payload))},
                  'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    return send('PUT', key, h, framed, content_length)


def sdk_v3_trailer(key, content_length):
    """What the AWS SDK v3 sends for a stream of unknown length: no x-amz-decoded-content-length either."""
    framed = (f'{len(payload):x}\r\n'.encode() + payload + b'\r\n0\r\n'
              + f'x-amz-checksum-crc32:{crc32(payload)}\r\n\r\n'.encode())
    h, *_ = sigv4('PUT', key, {'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32'},
                  'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    return send('PUT', key, h, framed, content_length)


def unsigned(key, content_length):
    h, *_ = sigv4('PUT', key, {}, 'UNSIGNED-PAYLOAD')
    return send('PUT', key, h, payload, content_length)


def signed_chunks(key, content_length):
    h, key_, seed, now, scope = sigv4('PUT', key, {'content-encoding': 'aws-chunked',
                                                    'x-amz-decoded-content-length': str(len(payload))},
                                      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    framed, prev = b'', seed
    for chunk in (payload, b''):
        to_sign = '\n'.join(['AWS4-HMAC-SHA256-PAYLOAD', now, scope, prev, hashlib.sha256(b'').hexdigest(),
                             hashlib.sha256(chunk).hexdigest()])
        prev = hmac.new(key_, to_sign.encode(), hashlib.sha256).hexdigest()
        framed += f'{len(chunk):x};chunk-signature={prev}\r\n'.encode() + chunk + b'\r\n'
    return send('PUT', key, h, framed, content_length)


for name, fn in (('STREAMING-UNSIGNED-PAYLOAD-TRAILER', unsigned_trailer),
                 ('STREAMING-UNSIGNED-PAYLOAD-TRAILER, no x-amz-decoded-content-length', sdk_v3_trailer),
                 ('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', signed_chunks),
                 ('UNSIGNED-PAYLOAD (no aws-chunked)', unsigned)):
    for with_length in (False, True):
        key = f'e/{run}-{name.split()[0]}-{len(name)}-{with_length}'
        r = fn(f'/{BUCKET}/{key}', with_length)
        stored = outcome(owner.head_object, Bucket=BUCKET, Key=key)
        same = stored == '200' and body(key) == payload
        fact(f"e {name} {'with' if with_length else 'without'} Content-Length",
             f"{r}; stored: {'the decoded payload' if same else stored if stored != '200' else 'other bytes'}")

# f. multipart ETag, and a retried CompleteMultipartUpload
k = f'f/{run}'
parts = [b'a' * (5 * MiB), b'b' * 1024]
uid, r = mpu(owner, k, parts)
expected = hashlib.md5(b''.join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f'-{len(parts)}'
etag = owner.head_object(Bucket=BUCKET, Key=k)['ETag'].strip('"')
fact('f multipart ETag', f'{etag}; md5(part md5s)-N = {expected}: {"same" if etag == expected else "differs"}')
uid2 = owner.create_multipart_upload(Bucket=BUCKET, Key=f'{k}-answer')['UploadId']
p1 = owner.upload_part(Bucket=BUCKET, Key=f'{k}-answer', UploadId=uid2, PartNumber=1, Body=b'one part')
answer = owner.complete_multipart_upload(Bucket=BUCKET, Key=f'{k}-answer', UploadId=uid2,
                                         MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p1['ETag']}]})
fact('f CompleteMultipartUpload answer ETag', f"{answer.get('ETag')!r}; HEAD ETag "
     f"{owner.head_object(Bucket=BUCKET, Key=f'{k}-answer')['ETag']!r}")
done = [{'PartNumber': n, 'ETag': '"' + hashlib.md5(p).hexdigest() + '"'} for n, p in enumerate(parts, 1)]
fact('f CompleteMultipartUpload retried after success', outcome(
    owner.complete_multipart_upload, Bucket=BUCKET, Key=k, UploadId=uid, MultipartUpload={'Parts': done}))
fact('f part smaller than 5 MiB before the last part', mpu(owner, f'{k}-small', [b'a', b'b'])[1])

# g. the put-only subuser
k = f'g/{run}'
uid = put_only.create_multipart_upload(Bucket=BUCKET, Key=k)['UploadId']
fact('g putOnly CreateMultipartUpload', '200')
r = put_only.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=1, Body=b'subuser part')
fact('g putOnly UploadPart', r['ResponseMetadata']['HTTPStatusCode'])
fact('g putOnly ListParts', outcome(put_only.list_parts, Bucket=BUCKET, Key=k, UploadId=uid))
fact('g putOnly ListMultipartUploads', outcome(put_only.list_multipart_uploads, Bucket=BUCKET))
fact('g putOnly CompleteMultipartUpload', outcome(
    put_only.complete_multipart_upload, Bucket=BUCKET, Key=k, UploadId=uid,
    MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': r['ETag']}]}))
fact('g putOnly PutObject', outcome(put_only.put_object, Bucket=BUCKET, Key=f'{k}-put', Body=b'subuser put'))
fact('g putOnly PutObject over an existing key',
     outcome(put_only.put_object, Bucket=BUCKET, Key=f'{k}-put', Body=b'subuser put 2'))
uid = put_only.create_multipart_upload(Bucket=BUCKET, Key=f'{k}-abort')['UploadId']
fact('g putOnly AbortMultipartUpload', outcome(put_only.abort_multipart_upload, Bucket=BUCKET,
                                               Key=f'{k}-abort', UploadId=uid))
listed = [o['Key'] for o in owner.list_objects_v2(Bucket=BUCKET, Prefix=f'g/{run}').get('Contents', [])]
fact('g owner ListObjectsV2 shows subuser objects', listed)
for name, fn, kw in (('HeadObject', put_only.head_object, {'Key': k}),
                     ('GetObject', put_only.get_object, {'Key': k}),
                     ('ListObjectsV2', put_only.list_objects_v2, {}),
                     ('HeadBucket', put_only.head_bucket, {}),
                     ('DeleteObject', put_only.delete_object, {'Key': f'{k}-put'})):
    fact(f'g putOnly {name}', outcome(fn, Bucket=BUCKET, **kw))
fact('g owner GetObject of subuser object', f"{outcome(owner.get_object, Bucket=BUCKET, Key=k)}, "
                                            f"body {body(k)!r}")
fact('g owner HeadObject of subuser object', outcome(owner.head_object, Bucket=BUCKET, Key=k))
owner.put_object(Bucket=BUCKET, Key=f'{k}-owners', Body=b'owner')
fact('g putOnly DeleteObject of an owner object',
     f"{outcome(put_only.delete_object, Bucket=BUCKET, Key=f'{k}-owners')}; owner HEAD afterwards: "
     f"{outcome(owner.head_object, Bucket=BUCKET, Key=f'{k}-owners')}")

# h. addressing: virtual-hosted names need DNS (and rgw_dns_name); look at what a Host header does
fact('h path style ListObjectsV2', outcome(owner.list_objects_v2, Bucket=BUCKET))
for endpoint in (ENDPOINT, ENDPOINT.replace('127.0.0.1', 'localhost')):
    s3, urls = client(rgw['owner'], style='virtual', endpoint=endpoint), []
    s3.meta.events.register('before-send', lambda request, **_: urls.append(request.url))
    try:
        r = outcome(s3.list_objects_v2, Bucket=BUCKET)
    except Exception as e:  # noqa: BLE001 - the connection error is the fact
        r = type(e).__name__
    fact(f'h virtual-hosted ListObjectsV2 (boto3, endpoint {endpoint})', f'{r}, sent to {urls[0]}')
conn = http.client.HTTPConnection(HOST, timeout=10)
conn.request('GET', '/', headers={'Host': f'{BUCKET}.{HOST}'})
resp = conn.getresponse()
text = resp.read().decode()
fact('h GET / with Host: dumps.127.0.0.1:PORT (unsigned)',
     f"{resp.status}, {'ListAllMyBucketsResult (Host ignored)' if 'ListAllMyBuckets' in text else text[:120]}")

# i. presigned URLs
k = f'i/{run}'
owner.put_object(Bucket=BUCKET, Key=k, Body=b'presigned')
url = owner.generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': k}, ExpiresIn=300)
with urllib.request.urlopen(url) as resp:
    fact('i presigned GET (owner)', f'{resp.status}, body {resp.read()!r}')
url = put_only.generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': k}, ExpiresIn=300)
try:
    urllib.request.urlopen(url)
    fact('i presigned GET (putOnly)', '200')
except urllib.error.HTTPError as e:
    fact('i presigned GET (putOnly)', e.code)

# region: the SigV4 scope RGW accepts
for region in ('us-east-1', 'eu-west-1', 'default', 'anything'):
    fact(f'region {region} ListObjectsV2', outcome(client(rgw['owner'], region=region).list_objects_v2,
                                                   Bucket=BUCKET, MaxKeys=1))
