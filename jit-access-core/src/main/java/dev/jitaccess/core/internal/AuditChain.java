package dev.jitaccess.core.internal;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.core.JsonLinesAuditSink.VerificationResult;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Map;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * The hash chain of the JSON Lines audit file: each line is one JSON object whose {@code seq} is its 1-based
 * line number and whose {@code prev} is the lower-case hex SHA-256 of the previous line's exact bytes (without
 * the line feed), {@link #GENESIS} for the first line.
 */
public final class AuditChain {

  /** The {@code prev} of the first record: 64 zeros. */
  public static final String GENESIS = "0".repeat(64);

  /** The longest record accepted, in bytes (without the line feed). */
  public static final int MAX_RECORD_BYTES = 1024 * 1024;

  private static final String PREV_MISMATCH = "does not match";

  private AuditChain() {}

  /** Where a chain ends: the last {@code seq} and the hash a next record must carry as {@code prev}. */
  public record Tail(long seq, String hash) {}

  /** The lower-case hex SHA-256 of the bytes. */
  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * Reads the last record of an open file so that a writer can continue its chain.
   *
   * @throws JitAccessException if the file does not end with a complete, well-formed record
   */
  public static Tail readTail(FileChannel channel, Path path) throws IOException {
    long size = channel.size();
    if (size == 0) {
      return new Tail(0, GENESIS);
    }
    if (byteAt(channel, size - 1) != '\n') {
      throw new JitAccessException(
          "cannot append to audit file "
              + path
              + ": it ends with an incomplete record (an interrupted write or truncation);"
              + " check it with JsonLinesAuditSink.verify and move it aside");
    }
    long start = size - 1;
    while (start > 0 && byteAt(channel, start - 1) != '\n') {
      start--;
      if (size - 1 - start > MAX_RECORD_BYTES) {
        throw new JitAccessException(
            "cannot append to audit file " + path + ": its last line is longer than " + MAX_RECORD_BYTES + " bytes");
      }
    }
    ByteBuffer line = ByteBuffer.allocate((int) (size - 1 - start));
    while (line.hasRemaining() && channel.read(line, start + line.position()) >= 0) {
      // read fully
    }
    byte[] bytes = line.array();
    String problem = check(bytes, -1, null);
    if (problem != null) {
      throw new JitAccessException(
          "cannot append to audit file " + path + ": its last line is not a valid record (" + problem
              + "); check it with JsonLinesAuditSink.verify");
    }
    try {
      long seq = JSONObjectUtils.getLong(JSONObjectUtils.parse(utf8(bytes)), "seq");
      return new Tail(seq, sha256Hex(bytes));
    } catch (ParseException e) {
      throw new JitAccessException("cannot append to audit file " + path + ": " + e.getMessage(), e);
    }
  }

  private static byte byteAt(FileChannel channel, long position) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    if (channel.read(one, position) != 1) {
      throw new IOException("unexpected end of file at byte " + position);
    }
    return one.get(0);
  }

  /**
   * Verifies a whole file.
   *
   * @throws JitAccessException if the file cannot be read
   */
  public static VerificationResult verify(Path file) {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      String previousHash = GENESIS;
      long lineNumber = 0;
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      while (true) {
        line.reset();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
          if (line.size() == MAX_RECORD_BYTES) {
            return bad(lineNumber + 1, lineNumber + 1, "longer than " + MAX_RECORD_BYTES + " bytes");
          }
          line.write(b);
        }
        if (b < 0 && line.size() == 0) {
          return new VerificationResult(true, lineNumber, OptionalLong.empty(), null);
        }
        lineNumber++;
        if (b < 0) {
          return bad(lineNumber, lineNumber, "incomplete record without a line end (truncated or interrupted write)");
        }
        byte[] bytes = line.toByteArray();
        String problem = check(bytes, lineNumber, previousHash);
        if (problem != null && problem.startsWith(PREV_MISMATCH) && lineNumber == 1) {
          return bad(1, 1, "prev is not " + GENESIS.length() + " zeros: records were removed from the start");
        } else if (problem != null) {
          // A prev mismatch means the previous line's bytes changed (or this prev field did): blame the former.
          long badLine = problem.startsWith(PREV_MISMATCH) ? lineNumber - 1 : lineNumber;
          return bad(badLine, lineNumber, problem);
        }
        previousHash = sha256Hex(bytes);
      }
    } catch (IOException e) {
      throw new JitAccessException("cannot read audit file " + file + ": " + e.getMessage(), e);
    }
  }

  private static VerificationResult bad(long line, long checked, String problem) {
    return new VerificationResult(false, checked, OptionalLong.of(line), "line " + line + ": " + problem);
  }

  /**
   * Checks one record; {@code expectedSeq} and {@code previousHash} are not checked when negative or null.
   * Returns the problem, or null when the record is fine. A {@code prev} mismatch starts with
   * {@link #PREV_MISMATCH}.
   */
  private static @Nullable String check(byte[] bytes, long expectedSeq, @Nullable String previousHash) {
    Map<String, Object> record;
    try {
      record = JSONObjectUtils.parse(utf8(bytes));
    } catch (CharacterCodingException e) {
      return "not valid UTF-8";
    } catch (ParseException e) {
      return "malformed JSON";
    }
    Object seq = record.get("seq");
    if (!(seq instanceof Long || seq instanceof Integer)) {
      return "no integer seq";
    }
    if (expectedSeq > 0 && ((Number) seq).longValue() != expectedSeq) {
      return "expected seq " + expectedSeq + " but found " + seq
          + ": a record was removed, inserted or reordered here";
    }
    if (!(record.get("prev") instanceof String prev) || prev.length() != 64) {
      return "no prev hash";
    }
    if (!(record.get("type") instanceof String) || !(record.get("time") instanceof String time)) {
      return "no time or type";
    }
    try {
      Instant.parse(time);
    } catch (DateTimeParseException e) {
      return "time is not an ISO-8601 instant";
    }
    if (previousHash != null && !previousHash.equals(prev)) {
      return PREV_MISMATCH + " the prev hash recorded by line " + expectedSeq
          + ": this line was edited (or the next line's prev was, or a line was removed after this one)";
    }
    return null;
  }

  private static String utf8(byte[] bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }
}
