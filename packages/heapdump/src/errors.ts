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

/** The name the package exported first; the same class. */
export { FieldError as ArgsError };
