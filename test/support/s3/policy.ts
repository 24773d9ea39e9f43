// A credential's permissions as an IAM policy document: explicit Deny wins, then any Allow, else denied.
// Conditions are refused at load time rather than ignored, so a test never passes on a rule we skipped.

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Sid?: string;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

const asList = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

function wildcardToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'i' : '');
}

export function validatePolicy(doc: PolicyDocument): void {
  if (!doc || !Array.isArray(doc.Statement) || doc.Statement.length === 0) {
    throw new Error('policy: Statement must be a non-empty array');
  }
  for (const [i, st] of doc.Statement.entries()) {
    const keys = Object.keys(st).filter((k) => !['Effect', 'Action', 'Resource', 'Sid'].includes(k));
    if (keys.length > 0)
      throw new Error(`policy: Statement[${i}] uses unsupported field(s) ${keys.join(', ')}`);
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny')
      throw new Error(`policy: Statement[${i}].Effect must be Allow or Deny`);
    if (asList(st.Action).length === 0 || asList(st.Resource).length === 0) {
      throw new Error(`policy: Statement[${i}] needs Action and Resource`);
    }
  }
}

/** Is `action` (e.g. `s3:PutObject`) on `resource` (e.g. `arn:aws:s3:::bucket/key`) allowed? */
export function isAllowed(doc: PolicyDocument, action: string, resource: string): boolean {
  const matches = (st: PolicyStatement) =>
    asList(st.Action).some((a) => wildcardToRegExp(a, true).test(action)) &&
    asList(st.Resource).some((r) => wildcardToRegExp(r, false).test(resource));
  if (doc.Statement.some((st) => st.Effect === 'Deny' && matches(st))) return false;
  return doc.Statement.some((st) => st.Effect === 'Allow' && matches(st));
}
