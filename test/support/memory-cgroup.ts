// Real memory limits for simulated containers: a child of this process's own memory cgroup (v1 memory
// controller or v2) per container start, with the container's limit, so the kernel OOM-kills a process that
// passes it (exit 137) exactly as on a node. Needs a writable cgroup hierarchy (root, or a delegated v2
// subtree); `memoryCgroupUnavailable()` says why not.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Hierarchy {
  version: 1 | 2;
  /** This process's own memory cgroup directory. */
  own: string;
}

function hierarchy(): Hierarchy | string {
  let cgroups: string;
  let mounts: string;
  try {
    cgroups = readFileSync('/proc/self/cgroup', 'utf8');
    mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch (e) {
    return `no /proc/self/cgroup here (${(e as Error).message})`;
  }
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(cgroups)?.[1];
  const v2 = /^0::(.*)$/m.exec(cgroups)?.[1];
  for (const line of mounts.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const [fstype, , options] = right.split(' ');
    const root = f[3] ?? '/';
    const point = f[4] ?? '';
    const path = (p: string) => join(point, root === '/' ? p : p.slice(root.length));
    if (v1 !== undefined && fstype === 'cgroup' && options?.split(',').includes('memory')) {
      return { version: 1, own: path(v1) };
    }
    if (v1 === undefined && v2 !== undefined && fstype === 'cgroup2') return { version: 2, own: path(v2) };
  }
  return 'no memory cgroup hierarchy is mounted';
}

let probed: Hierarchy | string | undefined;

/** Why memory limits cannot be enforced here, or undefined when they can (probed once, by writing one). */
export function memoryCgroupUnavailable(): string | undefined {
  if (probed === undefined) {
    probed = hierarchy();
    if (typeof probed !== 'string') {
      try {
        const test = new MemoryCgroup(probed, 'probe', 64 << 20);
        test.remove();
      } catch (e) {
        probed = `cannot create a memory cgroup under ${probed.own}: ${(e as Error).message}`;
      }
    }
  }
  return typeof probed === 'string' ? probed : undefined;
}

/** One container's memory cgroup. */
export class MemoryCgroup {
  readonly dir: string;
  readonly version: 1 | 2;

  constructor(h: Hierarchy, name: string, limitBytes: number) {
    this.version = h.version;
    this.dir = join(h.own, `kh-sim-${name.replace(/[^A-Za-z0-9-]/g, '_')}-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.dir);
    try {
      if (h.version === 1) {
        writeFileSync(join(this.dir, 'memory.limit_in_bytes'), String(limitBytes));
        // No swap: a pod's memory limit is its RAM (the kubelet runs without swap by default).
        writeFileSync(join(this.dir, 'memory.swappiness'), '0');
      } else {
        writeFileSync(join(this.dir, 'memory.max'), String(limitBytes));
        writeFileSync(join(this.dir, 'memory.swap.max'), '0');
      }
    } catch (e) {
      this.remove();
      throw e;
    }
  }

  static create(container: string, limitBytes: number): MemoryCgroup {
    const why = memoryCgroupUnavailable();
    if (why) throw new Error(why);
    return new MemoryCgroup(probed as Hierarchy, container, limitBytes);
  }

  /** argv that enters this cgroup, then execs `argv` (the move happens before any namespace is made). */
  wrap(argv: string[]): string[] {
    return ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.dir, ...argv];
  }

  /** How many processes the kernel's OOM killer has killed in this cgroup. */
  oomKills(): number {
    const file = this.version === 1 ? 'memory.oom_control' : 'memory.events';
    const text = readFileSync(join(this.dir, file), 'utf8');
    return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
  }

  /** Removes the (empty) cgroup; its page cache moves to the parent. */
  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // still has a process for a moment after its exit event; retried by the caller's cleanup
    }
  }
}
