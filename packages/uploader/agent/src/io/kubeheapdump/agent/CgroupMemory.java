package io.kubeheapdump.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * The memory of this process's own cgroup, as the kubelet and the kernel count it: usage less inactive page
 * cache (the kubelet's working set) and less all page cache (what the kernel cannot reclaim), against the
 * effective limit. cgroup v1 (memory controller) and v2.
 * The cgroup is resolved once from /proc/self/cgroup and /proc/self/mountinfo; {@code root} prefixes every
 * path so fixture trees can stand in for /proc and /sys in tests.
 */
final class CgroupMemory {
  /** One reading. {@code limit} is -1 when the cgroup has none. */
  static final class Reading {
    final long usage;
    final long inactiveFile;
    final long activeFile;
    final long limit;

    Reading(long usage, long inactiveFile, long activeFile, long limit) {
      this.usage = usage;
      this.inactiveFile = inactiveFile;
      this.activeFile = activeFile;
      this.limit = limit;
    }

    /** The kubelet's working set (usage less inactive page cache): reported in the evidence. */
    long workingSet() {
      return Math.max(0, usage - inactiveFile);
    }

    /**
     * What the kernel cannot reclaim before it OOM-kills: usage less all page cache, active included. The
     * threshold is judged on this: the JVM writing its own OutOfMemoryError dump fills the page cache (active,
     * charged to this cgroup) by the heap's size, which the kernel writes back and drops rather than kill for.
     */
    long unreclaimable() {
      return Math.max(0, usage - inactiveFile - activeFile);
    }
  }

  final int version;
  final Path dir;
  /** v2: the directories from this cgroup up to the mount's root, whose memory.max all bind it. */
  private final Path mountPoint;

  private CgroupMemory(int version, Path dir, Path mountPoint) {
    this.version = version;
    this.dir = dir;
    this.mountPoint = mountPoint;
  }

  /** The process's memory cgroup, or null when it has none this code can read (the reason on stderr). */
  static CgroupMemory resolve(Path root) throws IOException {
    List<String> cgroups = Files.readAllLines(root.resolve("proc/self/cgroup"), StandardCharsets.UTF_8);
    List<String> mounts = Files.readAllLines(root.resolve("proc/self/mountinfo"), StandardCharsets.UTF_8);
    String v1Path = null;
    String v2Path = null;
    for (String line : cgroups) {
      String[] f = line.split(":", 3);
      if (f.length < 3) continue;
      if (f[0].equals("0") && f[1].isEmpty()) v2Path = f[2];
      for (String controller : f[1].split(",")) if (controller.equals("memory")) v1Path = f[2];
    }
    for (String line : mounts) {
      // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
      int dash = line.indexOf(" - ");
      if (dash < 0) continue;
      String[] left = line.substring(0, dash).split(" ");
      String[] right = line.substring(dash + 3).split(" ");
      if (left.length < 5 || right.length < 3) continue;
      String mountRoot = unescape(left[3]);
      Path mountPoint = root.resolve(unescape(left[4]).substring(1));
      if (v1Path != null && right[0].equals("cgroup") && hasOption(right[2], "memory")) {
        return new CgroupMemory(1, within(mountPoint, mountRoot, v1Path), mountPoint);
      }
      if (v1Path == null && v2Path != null && right[0].equals("cgroup2")) {
        return new CgroupMemory(2, within(mountPoint, mountRoot, v2Path), mountPoint);
      }
    }
    return null;
  }

  private static boolean hasOption(String options, String name) {
    for (String o : options.split(",")) if (o.equals(name)) return true;
    return false;
  }

  /** mountinfo escapes space, tab, newline and backslash as octal. */
  private static String unescape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else out.append(c);
    }
    return out.toString();
  }

  /**
   * The cgroup's directory: with a cgroup namespace (the mount's root is the container's cgroup, the path
   * "/") the mount point itself; otherwise the path below the mount's root.
   */
  private static Path within(Path mountPoint, String mountRoot, String path) {
    if (mountRoot.equals("/")) return mountPoint.resolve(path.substring(1));
    if (path.equals(mountRoot)) return mountPoint;
    if (path.startsWith(mountRoot + "/")) return mountPoint.resolve(path.substring(mountRoot.length() + 1));
    return mountPoint;
  }

  Reading read() throws IOException {
    if (version == 1) {
      long usage = number(read("memory.usage_in_bytes"));
      String stat = read("memory.stat");
      long limit = number(read("memory.limit_in_bytes"));
      // The limit the kernel enforces is the lowest on the way up (hierarchical_memory_limit says it).
      long hierarchical = statField(stat, "hierarchical_memory_limit");
      if (hierarchical > 0 && hierarchical < limit) limit = hierarchical;
      // Above 2^62 v1 means "no limit" (it reports PAGE_COUNTER_MAX in bytes, rounded to pages).
      if (limit >= (1L << 62)) limit = -1;
      long inactive = statField(stat, "total_inactive_file");
      if (inactive < 0) inactive = statField(stat, "inactive_file");
      long active = statField(stat, "total_active_file");
      if (active < 0) active = statField(stat, "active_file");
      return new Reading(usage, Math.max(0, inactive), Math.max(0, active), limit);
    }
    long usage = number(read("memory.current"));
    String stat = read("memory.stat");
    long inactive = statField(stat, "inactive_file");
    long active = statField(stat, "active_file");
    long limit = -1;
    for (Path d = dir; d != null && d.startsWith(mountPoint); d = d.getParent()) {
      Path max = d.resolve("memory.max");
      if (!Files.exists(max)) continue;
      String value = new String(Files.readAllBytes(max), StandardCharsets.US_ASCII).trim();
      if (value.equals("max")) continue;
      long l = Long.parseLong(value);
      if (limit < 0 || l < limit) limit = l;
    }
    return new Reading(usage, Math.max(0, inactive), Math.max(0, active), limit);
  }

  private String read(String file) throws IOException {
    return new String(Files.readAllBytes(dir.resolve(file)), StandardCharsets.US_ASCII);
  }

  private static long number(String s) {
    return Long.parseLong(s.trim());
  }

  /** A "name value" line of memory.stat, or -1. */
  static long statField(String stat, String name) {
    int at = 0;
    while (at < stat.length()) {
      int end = stat.indexOf('\n', at);
      if (end < 0) end = stat.length();
      if (stat.startsWith(name, at) && at + name.length() < end && stat.charAt(at + name.length()) == ' ') {
        return Long.parseLong(stat.substring(at + name.length() + 1, end).trim());
      }
      at = end + 1;
    }
    return -1;
  }

  /** For tests: {@code java -cp agent.jar io.kubeheapdump.agent.CgroupMemory [ROOT]} prints one reading as JSON. */
  public static void main(String[] args) throws IOException {
    Path root = Paths.get(args.length > 0 ? args[0] : "/");
    CgroupMemory m = resolve(root);
    if (m == null) {
      System.out.println("{\"cgroup\":null}");
      return;
    }
    Reading r = m.read();
    System.out.println(
        "{\"version\":" + m.version + ",\"dir\":" + Json.string(root.relativize(m.dir).toString())
            + ",\"usage\":" + r.usage + ",\"inactiveFile\":" + r.inactiveFile + ",\"workingSet\":"
            + r.workingSet() + ",\"unreclaimable\":" + r.unreclaimable() + ",\"limit\":" + r.limit + "}");
  }
}
