package dev.jitaccess.core;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.spi.AuditSink;
import dev.jitaccess.core.internal.AuditChain;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An append-only, tamper-evident audit file: one JSON object per line (JSON Lines), each chained to the one
 * before by a SHA-256 hash.
 *
 * <p>Each record has these members, in this order: {@code seq} (1 for the first line of the file, then 2,
 * 3, ...), {@code time} (ISO-8601 instant), {@code type} (an {@link AuditEvent.Type} name), {@code subject},
 * {@code cluster}, {@code grant}, {@code detail} (each only when the event has it), {@code attributes} (an
 * object, possibly empty) and {@code prev}: the lower-case hex SHA-256 of the previous line's exact bytes,
 * without its line feed ({@code "000...0"}, 64 zeros, on the first line). Lines end with a single {@code \n};
 * JSON string escaping guarantees that no value can break a line. The sink writes exactly what the event
 * carries: the engine makes sure events never carry tokens, keys or signatures.
 *
 * <p>Opening an existing file continues its chain from its last line (which must be a complete record). An
 * exclusive file lock keeps a second writer (in this or another process) from interleaving records. With
 * {@linkplain Builder#fsync(boolean) fsync} on (the default) each record is forced to the storage device
 * before {@link #record(AuditEvent)} returns.
 *
 * <p>{@link #verify(Path)} recomputes the chain and reports the first edited, removed, inserted, reordered,
 * truncated or malformed line. What the chain cannot show on its own: an edit of the <em>last</em> line, or a
 * rewrite of the whole tail by someone who recomputes every hash. To catch those, ship records (or the latest
 * hash) elsewhere as they are written.
 *
 * <p>Thread-safe: records are written one at a time under a lock, each from a single buffer.
 *
 * @since 0.1.0
 */
public final class JsonLinesAuditSink implements AuditSink, AutoCloseable {

  private final Path path;
  private final boolean fsync;
  private final FileChannel channel;
  private final FileLock fileLock;
  private long end;
  private long seq;
  private String prev;
  private boolean closed;
  private @Nullable String broken;

  private JsonLinesAuditSink(Path path, boolean fsync, FileChannel channel, FileLock fileLock)
      throws IOException {
    this.path = path;
    this.fsync = fsync;
    this.channel = channel;
    this.fileLock = fileLock;
    AuditChain.Tail tail = AuditChain.readTail(channel, path);
    this.end = channel.size();
    this.seq = tail.seq();
    this.prev = tail.hash();
  }

  /**
   * Starts a sink; {@link Builder#path(Path)} is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Appends one record.
   *
   * @param event the event; not null
   * @throws NullPointerException if {@code event} is null
   * @throws JitAccessException if the sink is closed, the record is larger than 1 MiB, or writing or forcing
   *     it to disk failed (the message names the file). After a failed write the partial record is cut off
   *     again and the sink stays usable; after a failed fsync the sink refuses every further record, because
   *     what reached the disk is no longer known.
   */
  @Override
  public synchronized void record(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    if (closed || broken != null) {
      throw new JitAccessException(
          "audit file " + path + (closed ? " is closed" : " is unusable after an earlier failure: " + broken));
    }
    byte[] line = toJson(event, seq + 1, prev).getBytes(StandardCharsets.UTF_8);
    if (line.length > AuditChain.MAX_RECORD_BYTES) {
      throw new JitAccessException(
          "audit record of " + line.length + " bytes for " + path + " is larger than the limit of "
              + AuditChain.MAX_RECORD_BYTES + " bytes; shorten the event's detail or attributes");
    }
    ByteBuffer buffer = ByteBuffer.allocate(line.length + 1).put(line).put((byte) '\n').flip();
    try {
      while (buffer.hasRemaining()) {
        channel.write(buffer, end + buffer.position());
      }
    } catch (IOException e) {
      throw rollBack(e);
    }
    end += buffer.limit();
    seq++;
    prev = AuditChain.sha256Hex(line);
    if (fsync) {
      try {
        // fdatasync suffices: it also persists the new file length, which is needed to read the data back.
        channel.force(false);
      } catch (IOException e) {
        broken = "fsync failed: " + e.getMessage();
        throw new JitAccessException("could not force audit file " + path + " to disk: " + e.getMessage(), e);
      }
    }
  }

  private JitAccessException rollBack(IOException cause) {
    try {
      channel.truncate(end);
      return new JitAccessException(
          "could not write an audit record to " + path + ": " + cause.getMessage() + " (nothing was recorded)",
          cause);
    } catch (IOException e) {
      cause.addSuppressed(e);
      broken = "a partial record could not be removed: " + e.getMessage();
      return new JitAccessException(
          "could not write an audit record to " + path + " and could not remove the partial record: "
              + cause.getMessage(),
          cause);
    }
  }

  private static String toJson(AuditEvent event, long seq, String prev) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("seq", seq);
    json.put("time", event.time().toString());
    json.put("type", event.type().name());
    putIfPresent(json, "subject", event.subjectId());
    putIfPresent(json, "cluster", event.cluster());
    putIfPresent(json, "grant", event.grantId());
    putIfPresent(json, "detail", event.detail());
    json.put("attributes", new TreeMap<>(event.attributes()));
    json.put("prev", prev);
    return JSONObjectUtils.toJSONString(json);
  }

  private static void putIfPresent(Map<String, Object> json, String key, @Nullable String value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  /**
   * Verifies a file written by this sink: seq continuity, the hash chain, and that every line is a complete,
   * well-formed record. Reads the file once, streaming; safe to run while a sink appends to it.
   *
   * @param file the audit file
   * @return the result, naming the first bad line if there is one
   * @throws NullPointerException if {@code file} is null
   * @throws JitAccessException if the file cannot be read
   */
  public static VerificationResult verify(Path file) {
    return AuditChain.verify(Objects.requireNonNull(file, "file"));
  }

  /**
   * The file this sink appends to.
   *
   * @return the path; never null
   */
  public Path path() {
    return path;
  }

  /**
   * The {@code seq} of the last record in the file, 0 for an empty file.
   *
   * @return the last sequence number
   */
  public synchronized long lastSeq() {
    return seq;
  }

  /**
   * Releases the file lock and closes the file. Idempotent; later records fail.
   *
   * @throws JitAccessException if closing failed
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try (channel) {
      fileLock.release();
    } catch (IOException e) {
      throw new JitAccessException("could not close audit file " + path + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String id() {
    return "jsonl:" + path.getFileName();
  }

  @Override
  public String toString() {
    return "JsonLinesAuditSink[" + path + ", fsync=" + fsync + "]";
  }

  /**
   * The outcome of {@link JsonLinesAuditSink#verify(Path)}.
   *
   * <p>{@code firstBadLine} is the 1-based number of the first line the chain condemns: a missing, extra or
   * out-of-place line shows as a {@code seq} that is not its line number; an edited line shows as a
   * {@code prev} in the next line that no longer matches its bytes (so an edit of the very last line goes
   * unnoticed); an incomplete last line or malformed JSON condemns that line itself.
   *
   * <p>Instances are immutable and thread-safe.
   *
   * @param valid whether every line checked out
   * @param linesChecked how many lines were read (all of them when valid)
   * @param firstBadLine the first bad line, or empty when valid
   * @param problem what is wrong, starting with {@code "line <n>: "}, or {@code null} when valid
   * @since 0.1.0
   */
  public record VerificationResult(
      boolean valid, long linesChecked, OptionalLong firstBadLine, @Nullable String problem) {

    /**
     * Validates the components.
     *
     * @throws NullPointerException if {@code firstBadLine} is null
     * @throws IllegalArgumentException if the components contradict each other
     */
    public VerificationResult {
      Objects.requireNonNull(firstBadLine, "firstBadLine");
      if (linesChecked < 0 || valid == firstBadLine.isPresent() || valid == (problem != null)) {
        throw new IllegalArgumentException(
            "a valid result has no bad line and no problem, an invalid one has both");
      }
    }
  }

  /**
   * Builds a {@link JsonLinesAuditSink}. Each property may be set once. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private @Nullable Path path;
    private @Nullable Boolean fsync;

    private Builder() {}

    /**
     * Sets the file to append to; it is created if missing (its directory must exist).
     *
     * @param path the audit file
     * @return this builder
     * @throws NullPointerException if {@code path} is null
     * @throws IllegalStateException if the path was already set
     */
    public Builder path(Path path) {
      Objects.requireNonNull(path, "path");
      if (this.path != null) {
        throw new IllegalStateException("path was already set to " + this.path);
      }
      this.path = path;
      return this;
    }

    /**
     * Sets whether each record is forced to the storage device before {@code record} returns; default
     * {@code true}. Without it a crash can lose the last records (never corrupt earlier ones).
     *
     * @param fsync whether to force each record to disk
     * @return this builder
     * @throws IllegalStateException if fsync was already set
     */
    public Builder fsync(boolean fsync) {
      if (this.fsync != null) {
        throw new IllegalStateException("fsync was already set to " + this.fsync);
      }
      this.fsync = fsync;
      return this;
    }

    /**
     * Opens the file, locks it and reads the end of its chain.
     *
     * @return the sink, ready to append
     * @throws IllegalStateException if no path was set
     * @throws JitAccessException if the file cannot be opened or locked (another writer has it), or it does
     *     not end with a complete, valid record
     */
    public JsonLinesAuditSink build() {
      if (path == null) {
        throw new IllegalStateException("path must be set");
      }
      FileChannel channel = null;
      try {
        channel =
            FileChannel.open(
                path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
          throw new JitAccessException(
              "audit file " + path + " is locked by another process; only one writer may append to it");
        }
        return new JsonLinesAuditSink(path, fsync == null || fsync, channel, lock);
      } catch (OverlappingFileLockException e) {
        closeQuietly(channel, e);
        throw new JitAccessException(
            "audit file " + path + " is already open in this JVM; only one writer may append to it", e);
      } catch (IOException e) {
        closeQuietly(channel, e);
        throw new JitAccessException("cannot open audit file " + path + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        closeQuietly(channel, e);
        throw e;
      }
    }

    private static void closeQuietly(@Nullable FileChannel channel, Exception failure) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException e) {
          failure.addSuppressed(e);
        }
      }
    }
  }
}
