// S3 error responses: the codes, statuses and messages clients switch on.

export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly extra: Record<string, string>;
  constructor(status: number, code: string, message: string, extra: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.extra = extra;
  }
}

export const errors = {
  accessDenied: (why = 'Access Denied') => new S3Error(403, 'AccessDenied', why),
  invalidAccessKeyId: () =>
    new S3Error(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    ),
  signatureDoesNotMatch: () =>
    new S3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ),
  timeSkewed: () =>
    new S3Error(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    ),
  noSuchBucket: (bucket: string) =>
    new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string) =>
    new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }),
  noSuchUpload: (id: string) =>
    new S3Error(
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: id },
    ),
  invalidPart: (n: number) =>
    new S3Error(
      400,
      'InvalidPart',
      `One or more of the specified parts could not be found or its entity tag did not match (part ${n}).`,
    ),
  invalidPartOrder: () =>
    new S3Error(
      400,
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  entityTooSmall: (n: number, size: number) =>
    new S3Error(
      400,
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed object size.',
      {
        PartNumber: String(n),
        ProposedSize: String(size),
        MinSizeAllowed: String(5 * 1024 * 1024),
      },
    ),
  entityTooLarge: () =>
    new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.'),
  badDigest: (what: string) =>
    new S3Error(400, 'BadDigest', `The ${what} you specified did not match the calculated checksum.`),
  sha256Mismatch: () =>
    new S3Error(
      400,
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
  incompleteBody: () =>
    new S3Error(
      400,
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header.',
    ),
  invalidArgument: (message: string) => new S3Error(400, 'InvalidArgument', message),
  invalidRequest: (message: string) => new S3Error(400, 'InvalidRequest', message),
  malformedXML: () =>
    new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  invalidRange: () => new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable'),
  preconditionFailed: (condition: string) =>
    new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    }),
  bucketNotEmpty: () => new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty'),
  bucketExists: () =>
    new S3Error(
      409,
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
    ),
  invalidBucketName: () => new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.'),
  notImplemented: (what: string) =>
    new S3Error(501, 'NotImplemented', `${what} is not implemented by this test server.`),
  missingContentLength: () =>
    new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.'),
};
