// What the analysis controller and its Jobs may do, as pure functions so least privilege is a plain test.
// The controller: list/watch Events in the namespaces it serves (and create HeapDumpAnalyzed there);
// create/get Jobs in its own (it never deletes one: ttlSecondsAfterFinished does). The Jobs (and the controller, for summaries and stubs): read
// under the prefix, write only `*.report.*` objects.
import { REPORT_KEY_PATTERN } from '@kube-heapdump/contract';
import { kmsThroughS3, type PolicyDocument, type PolicyStatement, type PrefixAccess } from './policies.ts';

export interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** In each served namespace: read the Events the uploaders post, and post HeapDumpAnalyzed beside them. */
export function analysisEventsRules(): RoleRule[] {
  return [{ apiGroups: [''], resources: ['events'], verbs: ['list', 'watch', 'create'] }];
}

/** In the controller's namespace: its Jobs. */
export function analysisJobsRules(): RoleRule[] {
  return [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get'] }];
}

/**
 * Read dumps, summaries and reports under the prefix (GetObject also answers HEAD); put only reports. With
 * SSE-KMS, decrypt to read and GenerateDataKey to write, only through S3 in the bucket's region.
 */
export function analysisPolicy(opts: PrefixAccess): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      Sid: 'ReadHeapDumps',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: `${opts.bucketArn}/${opts.prefix}*`,
    },
    {
      Sid: 'PutReports',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: `${opts.bucketArn}/${opts.prefix}${REPORT_KEY_PATTERN}`,
    },
  ];
  if (opts.kmsKeyArn !== undefined) {
    statements.push(
      kmsThroughS3('DecryptHeapDumps', ['kms:Decrypt', 'kms:GenerateDataKey'], opts.kmsKeyArn, opts.region),
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}
