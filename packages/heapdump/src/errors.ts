// The one error the component's builders throw: a pulumi.ResourceError naming the argument's field
// (`heapDumps.sizeLimit`, `podTemplate.spec.containers[1].args`) and saying how to fix it.
import * as pulumi from '@pulumi/pulumi';

/** An argument that cannot work, with the argument's path. */
export class FieldError extends pulumi.ResourceError {
  readonly field: string;
  constructor(field: string, message: string, resource?: pulumi.Resource) {
    super(`${field}: ${message}`, resource, true);
    this.name = 'FieldError';
    this.field = field;
  }
}

/**
 * An argument path from its pieces: `fieldPath('podTemplate.spec', 'containers[0]', 'env')` is
 * `podTemplate.spec.containers[0].env`; empty pieces are left out, an index (`[1]`) is attached as it is, and
 * a piece's trailing dot (the older `podTemplate.spec.` form of HeapDumpOptions.field) is not doubled.
 */
export function fieldPath(...pieces: string[]): string {
  let path = '';
  for (const raw of pieces) {
    const piece = raw.replace(/\.+$/, '');
    if (piece === '') continue;
    path = path === '' || piece.startsWith('[') ? path + piece : `${path}.${piece}`;
  }
  return path;
}

/** The path as the subject of a sentence: `podTemplate.spec`, or `the pod` when it is empty. */
export function podPlace(path: string): string {
  return fieldPath(path) || 'the pod';
}
