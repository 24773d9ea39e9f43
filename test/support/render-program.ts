// Runs a Pulumi program (an examples/ project's index.ts) under Pulumi's mocks and returns every resource
// it registers, sorted, with nothing random in it: the same program against the same packages renders the
// same JSON, in the repository (TypeScript source) and in a project that installed the packed tarballs
// (scripts/pack-check.ts copies this file and pulumi-mocks.ts there). Run as a command it prints that JSON.
import { pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { installMocks, resolved } from './pulumi-mocks.ts';

export interface Rendered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

let mocks: Awaited<ReturnType<typeof installMocks>> | undefined;
let runs = 0;

/**
 * Runs the program with `config` (keys without the project prefix) in a stack, as the Pulumi runtime does,
 * and waits until every resource it constructed is registered.
 */
export async function renderProgram(file: string, config: Record<string, string> = {}): Promise<Rendered[]> {
  mocks ??= await installMocks({ deterministic: true });
  mocks.reset();
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([key, value]) => [`${pulumi.getProject()}:${key}`, value]),
    ),
  );
  const constructed: pulumi.Resource[] = [];
  // A program that throws also fails a promise of the stack's that nobody awaits, which ends the process
  // as it would end `pulumi preview`: run failing programs as a command (below).
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      constructed.push(args.resource);
      return undefined;
    });
    // A query makes each run a new module instance: the program runs again, its imports stay cached.
    return (await import(`${pathToFileURL(file).href}?run=${++runs}`)) as Record<string, unknown>;
  });
  await resolved(pulumi.all(constructed.map((r) => r.urn)));
  const custom = constructed.filter((r): r is pulumi.CustomResource => r instanceof pulumi.CustomResource);
  await resolved(pulumi.all(custom.map((r) => r.id)));
  return mocks
    .registered()
    .filter((r) => r.type !== 'pulumi:pulumi:Stack')
    .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }))
    .sort((a, b) => (a.type + a.name < b.type + b.name ? -1 : 1));
}

if (import.meta.filename === process.argv[1]) {
  const [file, configJson] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node render-program.ts <program.ts> [config JSON]\n');
    process.exit(2);
  }
  const rendered = await renderProgram(
    file,
    configJson ? (JSON.parse(configJson) as Record<string, string>) : {},
  );
  process.stdout.write(`${JSON.stringify(rendered, null, 2)}\n`);
}
