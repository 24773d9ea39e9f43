package io.kubeheapdump.agent;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the agent writes a heap dump until it is whole: {@code <dir>/.kube-heapdump/partial/}, which the
 * uploader does not watch, renamed into the dump directory once complete. JDK 22+ writes a dump in two phases:
 * the heap into pieces ({@code <name>.p0}, {@code .p1}...) inside the safepoint, then, with the application
 * running again, appends them to the file holding the header and the non-heap records. A leak that reaches
 * the container's limit during that merge gets the JVM killed with the pieces whole and the file half
 * merged. The next JVM in the container (the volume outlives it) finishes the merge before the application
 * starts: the file cut back to its non-heap records, the pieces appended in order, the end record written.
 * A dump with no pieces (cut inside the safepoint) is moved as it is: its summary says it is truncated.
 */
final class PartialDumps {
  private static final int HEAP_DUMP_SEGMENT = 0x1c;
  private static final int HEAP_DUMP = 0x0c;
  private static final int HEAP_DUMP_END = 0x2c;
  private static final String HEADER = "JAVA PROFILE 1.0.";

  private PartialDumps() {}

  static Path dir(Path dumpDir) {
    return dumpDir.resolve(".kube-heapdump").resolve("partial");
  }

  /** Finishes and moves into {@code dumpDir} every dump a killed JVM left; never throws. */
  static void recover(Path dumpDir) {
    Path partial = dir(dumpDir);
    if (!Files.isDirectory(partial)) return;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(partial, "*.hprof")) {
      for (Path dump : files) {
        // A JVM still writing it (another JVM of the container, started by this one) holds its lock.
        try (FileChannel lockFile = lockFile(dump);
            FileLock lock = lockFile.tryLock()) {
          if (lock == null || !Files.isRegularFile(dump, LinkOption.NOFOLLOW_LINKS)) continue;
          List<Path> pieces = pieces(dump);
          if (!pieces.isEmpty()) merge(dump, pieces);
          Files.move(dump, dumpDir.resolve(dump.getFileName()), StandardCopyOption.ATOMIC_MOVE);
          Watchdog.log(
              "a dump cut off by the JVM's end, " + dump.getFileName()
                  + (pieces.isEmpty() ? ", moved as it is" : ", finished from its " + pieces.size() + " piece(s)"));
          Files.delete(lockPath(dump));
        } catch (IOException | RuntimeException e) {
          Watchdog.log("cannot finish the cut-off dump " + dump.getFileName() + ": " + e);
        }
      }
    } catch (IOException e) {
      Watchdog.log("cannot read " + partial + ": " + e);
    }
  }

  /**
   * Held by the JVM writing {@code dump} until it is renamed whole (an fcntl lock: the kernel drops it with the
   * process, whatever kills it).
   */
  static FileChannel lockFile(Path dump) throws IOException {
    return FileChannel.open(lockPath(dump), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  }

  static Path lockPath(Path dump) {
    return dump.resolveSibling(dump.getFileName() + ".lock");
  }

  /** {@code <dump>.p0}, {@code .p1}... in order, up to the first missing. */
  private static List<Path> pieces(Path dump) {
    List<Path> pieces = new ArrayList<>();
    for (int i = 0; ; i++) {
      Path p = dump.resolveSibling(dump.getFileName() + ".p" + i);
      if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return pieces;
      pieces.add(p);
    }
  }

  private static void merge(Path dump, List<Path> pieces) throws IOException {
    long keep = nonHeapLength(dump);
    try (FileChannel out = FileChannel.open(dump, StandardOpenOption.WRITE)) {
      out.truncate(keep);
      out.position(keep);
      for (Path piece : pieces) {
        try (FileChannel in = FileChannel.open(piece, StandardOpenOption.READ)) {
          for (long at = 0, size = in.size(); at < size; ) at += in.transferTo(at, size - at, out);
        }
      }
      out.write(java.nio.ByteBuffer.wrap(new byte[] {HEAP_DUMP_END, 0, 0, 0, 0, 0, 0, 0, 0}));
      out.force(true);
    }
    for (Path piece : pieces) Files.delete(piece);
  }

  /** Bytes of the header and the whole non-heap records before the first heap record (or the cut). */
  private static long nonHeapLength(Path dump) throws IOException {
    try (InputStream raw = Files.newInputStream(dump);
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw, 1 << 16))) {
      byte[] head = new byte[HEADER.length()];
      in.readFully(head);
      if (!new String(head, java.nio.charset.StandardCharsets.US_ASCII).equals(HEADER)) {
        throw new IOException("not an HPROF file");
      }
      long at = head.length;
      while (in.readByte() != 0) at++;
      at += 1 + 4 + 8;
      in.readInt();
      in.readLong();
      while (true) {
        int tag;
        try {
          tag = in.readUnsignedByte();
        } catch (EOFException e) {
          return at;
        }
        if (tag == HEAP_DUMP_SEGMENT || tag == HEAP_DUMP || tag == HEAP_DUMP_END) return at;
        try {
          in.readInt();
          long length = in.readInt() & 0xffffffffL;
          skipFully(in, length);
          at += 9 + length;
        } catch (EOFException e) {
          return at;
        }
      }
    }
  }

  private static void skipFully(InputStream in, long n) throws IOException {
    while (n > 0) {
      long skipped = in.skip(n);
      if (skipped <= 0) {
        if (in.read() < 0) throw new EOFException();
        skipped = 1;
      }
      n -= skipped;
    }
  }
}
