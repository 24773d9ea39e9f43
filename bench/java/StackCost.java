import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * What HotSpot's own stack walks cost in native memory (the figures behind the agent's StackCost.java):
 * parks THREADS threads DEPTH frames deep (frames of 2 local slots, or of 64 with "fat"), then prints the
 * peak RSS (VmHWM) around a thread dump (ThreadMXBean, 256 threads, 64 frames, with locks) and around a heap
 * dump (HotSpotDiagnosticMXBean.dumpHeap, live=false) into DIR, per frame walked.
 *   java -Xms64m -Xmx64m -XX:+UseSerialGC bench/java/StackCost.java THREADS DEPTH thin|fat DIR
 * (scripts/stack-cost runs it on the JDKs the watchdog's tests use.)
 */
public class StackCost {
  static boolean fat;

  static void thin(int n, Object lock) throws InterruptedException {
    if (n > 0) thin(n - 1, lock);
    else synchronized (lock) { lock.wait(); }
  }

  static void fat(int depth, Object lock) throws InterruptedException {
    long a = depth, b = a * 3, c = b ^ a, d = c + 7, e = d * 5, f = e - 1, g = f | 2, h = g & e;
    long i = h + a, j = i * 2, k = j ^ 9, l = k + c, m = l - b, n = m * g, o = n + h, p = o ^ f;
    long q = p + i, r = q * j, s = r - k, t = s + l, u = t ^ m, v = u + n, w = v * o, x = w + p;
    long y = x ^ q, z = y + r, aa = z - s, bb = aa + t, cc = bb ^ u, dd = cc + v, ee = dd * w, ff = ee + x;
    if (depth > 0) fat(depth - 1, lock);
    else synchronized (lock) { lock.wait(); }
    if (ff == 42) System.out.println();
  }

  static long peakKb() throws Exception {
    for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
      if (line.startsWith("VmHWM")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IllegalStateException("no VmHWM");
  }

  public static void main(String[] args) throws Exception {
    int threads = Integer.parseInt(args[0]);
    int depth = Integer.parseInt(args[1]);
    fat = args[2].equals("fat");
    Path dir = Paths.get(args[3]);
    Object lock = new Object();
    for (int n = 0; n < threads; n++) {
      Thread t = new Thread(() -> {
        try {
          if (fat) fat(depth, lock);
          else thin(depth, lock);
        } catch (InterruptedException e) {
          // ends the thread
        }
      });
      t.setDaemon(true);
      t.start();
    }
    Thread.sleep(2000);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long[] ids = mx.getAllThreadIds();
    int frames = mx.getThreadInfo(ids[ids.length - 1], Integer.MAX_VALUE).getStackTrace().length;
    long[] batch = java.util.Arrays.copyOf(ids, Math.min(256, ids.length));
    long before = peakKb();
    mx.getThreadInfo(batch, true, true, 64);
    long threadDump = peakKb() - before;
    before = peakKb();
    Path file = dir.resolve("stack-cost-" + ProcessHandle.current().pid() + ".hprof");
    ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpHeap(file.toString(), false);
    long heapDump = peakKb() - before;
    Files.delete(file);
    System.out.printf(
        "%s %s: %d threads, %d frames each; thread dump +%d KB (%.2f KB a frame), heap dump +%d KB (%.2f KB a frame)%n",
        System.getProperty("java.version"), args[2], ids.length, frames, threadDump,
        threadDump / (double) (batch.length * Math.min(64, frames)), heapDump,
        heapDump / (double) ((long) ids.length * frames));
  }
}
