// The JVM side of heap dumps: the flags we add, how they reach the JVM (JAVA_TOOL_OPTIONS appended to
// whatever the container has), and the command-line words that would undo them. Pure.

import { type JvmOptionSource, jvmOptions } from '@kube-heapdump/contract';
import type * as pulumi from '@pulumi/pulumi';
import { type HeapDumpsArgs, OnOutOfMemory } from './args.ts';
import { FieldError, fieldPath } from './errors.ts';
import type { Container, EnvVar } from './k8s-types.ts';
import { DEFAULT_MOUNT_PATH, USER_JAVA_TOOL_OPTIONS } from './names.ts';

type HeapDumps = pulumi.Unwrap<HeapDumpsArgs>;

/** The dump directory (`heapDumps.mountPath`), checked. */
export function mountPathOf(heapDumps: HeapDumps): string {
  const path = heapDumps.mountPath ?? DEFAULT_MOUNT_PATH;
  if (!path.startsWith('/') || /\s/.test(path)) {
    throw new FieldError('heapDumps.mountPath', `"${path}" must be an absolute path without spaces`);
  }
  return path;
}

/** The Flight Recorder's cap on disk (`maxsize`), when `heapDumps.flightRecorder` is on. */
export const FLIGHT_RECORDING_MAX_BYTES = 64 * 2 ** 20;

/**
 * The Flight Recorder flags: a continuous recording kept on disk up to the cap, its repository in the volume
 * (a dot-directory the uploader ignores; the app's /tmp may be read-only), dumped into the volume on exit.
 */
export function flightRecorderFlags(mountPath: string): string[] {
  return [
    `-XX:FlightRecorderOptions=repository=${mountPath}/.jfr-repository`,
    `-XX:StartFlightRecording=disk=true,maxsize=${FLIGHT_RECORDING_MAX_BYTES / 2 ** 20}m,dumponexit=true,filename=${mountPath}/flight-recording.jfr`,
  ];
}

/** Where the JVM writes its crash log: the name the uploader ships (`hs_err_pid<N>.log`) in the volume. */
function errorFileFlag(mountPath: string): string {
  return `-XX:ErrorFile=${mountPath}/hs_err_pid%p.log`;
}

/** The flags the component adds to JAVA_TOOL_OPTIONS. */
export function heapDumpJvmFlags(heapDumps: HeapDumps): string[] {
  const mountPath = mountPathOf(heapDumps);
  const flags = [
    '-XX:+HeapDumpOnOutOfMemoryError',
    `-XX:HeapDumpPath=${mountPath}`,
    // A crash log beside the dumps, shipped like them (kind hs-err), not lost with the container.
    errorFileFlag(mountPath),
  ];
  const onOom = heapDumps.onOutOfMemory ?? 'exit';
  const choices: readonly string[] = Object.values(OnOutOfMemory);
  if (!choices.includes(onOom)) {
    throw new FieldError('heapDumps.onOutOfMemory', `"${onOom}" is not ${choices.join(' or ')}`);
  }
  if (onOom === 'exit') flags.push('-XX:+ExitOnOutOfMemoryError');
  if (heapDumps.flightRecorder) flags.push(...flightRecorderFlags(mountPath));
  flags.push(...(heapDumps.extraJvmFlags ?? []));
  return flags;
}

/**
 * The env with JAVA_TOOL_OPTIONS appended to. A literal value (which may hold `$(VAR)` references, the
 * kubelet expands them) is extended in place; a value from a Secret, ConfigMap or field moves to
 * HEAPDUMP_APP_JAVA_TOOL_OPTIONS and is referenced as `$(HEAPDUMP_APP_JAVA_TOOL_OPTIONS)`, so it is kept too.
 * Every other variable is returned as given, in its place.
 */
export function withJavaToolOptions(
  env: readonly EnvVar[],
  flags: readonly string[],
  field: string,
): EnvVar[] {
  const ours = flags.join(' ');
  const out: EnvVar[] = [];
  let found = false;
  for (const [i, e] of env.entries()) {
    if (e.name === USER_JAVA_TOOL_OPTIONS) {
      throw new FieldError(
        fieldPath(field, `[${i}]`),
        `${USER_JAVA_TOOL_OPTIONS} is the component's; rename it`,
      );
    }
    if (e.name !== 'JAVA_TOOL_OPTIONS') {
      out.push(e);
      continue;
    }
    if (found) throw new FieldError(fieldPath(field, `[${i}]`), 'JAVA_TOOL_OPTIONS is given twice');
    found = true;
    if (e.valueFrom === undefined) {
      out.push({ ...e, value: [e.value, ours].filter((v) => v).join(' ') });
    } else {
      out.push({ ...e, name: USER_JAVA_TOOL_OPTIONS });
      out.push({ name: 'JAVA_TOOL_OPTIONS', value: `$(${USER_JAVA_TOOL_OPTIONS}) ${ours}` });
    }
  }
  if (!found) out.push({ name: 'JAVA_TOOL_OPTIONS', value: ours });
  return out;
}

/** A JVM option that moves the dump elsewhere or turns it off. */
function undoesDumps(word: string): boolean {
  return word.startsWith('-XX:HeapDumpPath=') || word === '-XX:-HeapDumpOnOutOfMemoryError';
}

/** An `-XX:ErrorFile` other than the component's: the crash log would not be shipped. */
function movesCrashLog(word: string, mountPath: string): boolean {
  return word.startsWith('-XX:ErrorFile=') && word !== errorFileFlag(mountPath);
}

/** Why `word`, read after the component's flags, cannot stay; undefined when it may. */
function overridesOurFlags(word: string, mountPath: string): string | undefined {
  if (undoesDumps(word)) return "overrides the component's heap dump flags";
  if (movesCrashLog(word, mountPath)) {
    return `moves the JVM's crash log away from the component's ${errorFileFlag(mountPath)}, where the uploader would not ship it`;
  }
  return undefined;
}

/** Why a word from each place the JVM reads after our JAVA_TOOL_OPTIONS wins over it (jvm-options.ts). */
const READ_AFTER: Partial<Record<JvmOptionSource, string>> = {
  command: 'the command line wins over JAVA_TOOL_OPTIONS',
  args: 'the command line wins over JAVA_TOOL_OPTIONS',
  JDK_JAVA_OPTIONS: 'the launcher reads it after JAVA_TOOL_OPTIONS',
  _JAVA_OPTIONS: 'the JVM reads it last, after the command line',
};

/**
 * The command line, JDK_JAVA_OPTIONS and _JAVA_OPTIONS (read after JAVA_TOOL_OPTIONS) win over our flags,
 * which the component cannot override there: refuse words that would move or disable the dump or move the
 * crash log. `field` is the container's path (`podTemplate.spec.containers[0]`).
 */
export function checkJvmCommandLine(container: Container, field: string, mountPath: string): void {
  for (const { word, source, index } of jvmOptions(container)) {
    const after = READ_AFTER[source];
    const why = after === undefined ? undefined : overridesOurFlags(word, mountPath);
    if (why === undefined) continue;
    if (source === 'command' || source === 'args') {
      throw new FieldError(fieldPath(field, source), `"${word}" ${why} (${after}); remove it`);
    }
    throw new FieldError(
      fieldPath(field, `env[${index}]`),
      `"${word}" in ${source} ${why} (${after}); remove it`,
    );
  }
}

/**
 * A warning for an `-XX:ErrorFile` in the user's literal JAVA_TOOL_OPTIONS: the component's comes after it
 * and wins, so the crash log goes to the volume and is shipped; said rather than refused, since the
 * deployment works as intended once overridden. Judged on the user's container, before our flags.
 */
export function errorFileOverriddenWarning(
  container: Container,
  field: string,
  mountPath: string,
): string | undefined {
  const found = jvmOptions(container).find(
    (o) => o.source === 'JAVA_TOOL_OPTIONS' && movesCrashLog(o.word, mountPath),
  );
  if (found !== undefined) {
    return (
      `${fieldPath(field, `env[${found.index}]`)}: "${found.word}" in JAVA_TOOL_OPTIONS is overridden by the component's ` +
      `${errorFileFlag(mountPath)}, added after it, so that crash logs are shipped from the dump volume; remove it`
    );
  }
  return undefined;
}

/** Words in an image or command line that say a JVM runs there: JDKs, JVM languages and build tools, Java servers. */
const JVM_WORDS =
  /java|jdk|jre|jvm|temurin|corretto|zulu|graal|liberica|semeru|adoptium|\.jar\b|^-X|spring|tomcat|jetty|wildfly|jboss|payara|quarkus|micronaut|keycloak|kafka|zookeeper|cassandra|elastic|opensearch|logstash|solr|jenkins|sonar|nexus|neo4j|flink|spark|hadoop|hbase|trino|presto|scala|kotlin|clojure|groovy|gradle|maven|mvn|sbt/i;
/** Environment variables only a JVM (or its launcher script) reads. */
const JVM_ENV =
  /^(JAVA_HOME|JAVA_OPTS|JAVA_TOOL_OPTIONS|JDK_JAVA_OPTIONS|_JAVA_OPTIONS|CATALINA_OPTS|\w+_(JAVA|JVM)_OPTS|JVM_OPTS)$/;

/**
 * A warning when nothing about `container` (image, command, args, environment names) suggests a JVM: a
 * sidecar named as the dump target (`envoy`) would make the uploader wait for dumps that never come.
 */
export function notJvmWarning(container: Container, field: string): string | undefined {
  const words = [container.image ?? '', ...(container.command ?? []), ...(container.args ?? [])];
  if (words.some((w) => JVM_WORDS.test(w))) return undefined;
  if ((container.env ?? []).some((e) => JVM_ENV.test(e.name))) return undefined;
  return (
    `${fieldPath(field, 'image')}: the heap dump target "${container.name}" (${container.image}) shows no sign of a ` +
    'JVM in its image, command or environment: if it is not the Java container, name that one in heapDumps.containers'
  );
}
