package dev.jitaccess.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.core.JsonLinesAuditSink.VerificationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class JsonLinesAuditSinkTest {

  private static final Instant T0 = Instant.parse("2025-01-01T10:00:00Z");

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("audit.jsonl");
  }

  private JsonLinesAuditSink open() {
    return JsonLinesAuditSink.builder().path(file()).build();
  }

  private static AuditEvent event(int i) {
    return new AuditEvent(
        T0.plusSeconds(i), AuditEvent.Type.GRANTED, "user-" + i, "prod-1", "grant-" + i, "detail " + i);
  }

  private void writeEvents(int count) {
    try (JsonLinesAuditSink sink = open()) {
      for (int i = 1; i <= count; i++) {
        sink.record(event(i));
      }
    }
  }

  private List<String> lines() throws IOException {
    return new ArrayList<>(Files.readAllLines(file(), UTF_8));
  }

  private void rewrite(List<String> lines) throws IOException {
    Files.write(file(), lines, UTF_8);
  }

  private static String sha256(String line) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line.getBytes(UTF_8)));
  }

  @Test
  void roundTripVerifies() throws Exception {
    writeEvents(5);

    assertThat(JsonLinesAuditSink.verify(file()))
        .isEqualTo(new VerificationResult(true, 5, OptionalLong.empty(), null));
    List<String> lines = lines();
    assertThat(JSONObjectUtils.parse(lines.get(0)).get("prev")).isEqualTo("0".repeat(64));
    for (int i = 1; i < lines.size(); i++) {
      Map<String, Object> record = JSONObjectUtils.parse(lines.get(i));
      assertThat(record.get("seq")).isEqualTo((long) i + 1);
      assertThat(record.get("prev")).isEqualTo(sha256(lines.get(i - 1)));
    }
  }

  @Test
  void recordIsExactlyWhatItWasGiven() throws Exception {
    AuditEvent event =
        new AuditEvent(
            T0,
            AuditEvent.Type.REQUEST,
            "mallory\n{\"seq\":99}",
            "prod-1",
            "g-1",
            "line1\nline2 \u2028 \"quoted\"",
            Map.of("path", "/api/v1/pods", "status", "200"));
    try (JsonLinesAuditSink sink = open()) {
      sink.record(event);
      sink.record(new AuditEvent(T0, AuditEvent.Type.AUTHENTICATION_FAILED, null, null, null, null));
    }

    List<String> lines = lines();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0))
        .startsWith("{\"seq\":1,\"time\":\"2025-01-01T10:00:00Z\",\"type\":\"REQUEST\",\"subject\":");
    assertThat(JSONObjectUtils.parse(lines.get(0)))
        .containsExactly(
            Map.entry("seq", 1L),
            Map.entry("time", "2025-01-01T10:00:00Z"),
            Map.entry("type", "REQUEST"),
            Map.entry("subject", "mallory\n{\"seq\":99}"),
            Map.entry("cluster", "prod-1"),
            Map.entry("grant", "g-1"),
            Map.entry("detail", "line1\nline2 \u2028 \"quoted\""),
            Map.entry("attributes", Map.of("path", "/api/v1/pods", "status", "200")),
            Map.entry("prev", "0".repeat(64)));
    assertThat(JSONObjectUtils.parse(lines.get(1)))
        .containsOnlyKeys("seq", "time", "type", "attributes", "prev");
    assertThat(JsonLinesAuditSink.verify(file()).valid()).isTrue();
  }

  @Test
  void editedLineIsDetected() throws Exception {
    writeEvents(5);
    List<String> lines = lines();
    lines.set(2, lines.get(2).replace("\"user-3\"", "\"user-X\""));
    rewrite(lines);

    VerificationResult result = JsonLinesAuditSink.verify(file());

    assertThat(result.valid()).isFalse();
    assertThat(result.firstBadLine()).hasValue(3);
    assertThat(result.problem()).startsWith("line 3: does not match the prev hash recorded by line 4");
  }

  @Test
  void removedLineIsDetected() throws Exception {
    writeEvents(5);
    List<String> lines = lines();
    lines.remove(2);
    rewrite(lines);

    VerificationResult result = JsonLinesAuditSink.verify(file());

    assertThat(result.firstBadLine()).hasValue(3);
    assertThat(result.problem()).startsWith("line 3: expected seq 3 but found 4");
  }

  @Test
  void removedFirstLineIsDetected() throws Exception {
    writeEvents(3);
    List<String> lines = lines();
    lines.remove(0);
    rewrite(lines);

    assertThat(JsonLinesAuditSink.verify(file()).firstBadLine()).hasValue(1);
  }

  @Test
  void reorderedLinesAreDetected() throws Exception {
    writeEvents(5);
    List<String> lines = lines();
    Collections.swap(lines, 1, 2);
    rewrite(lines);

    VerificationResult result = JsonLinesAuditSink.verify(file());

    assertThat(result.firstBadLine()).hasValue(2);
    assertThat(result.problem()).startsWith("line 2: expected seq 2 but found 3");
  }

  @Test
  void insertedLineIsDetected() throws Exception {
    writeEvents(5);
    List<String> lines = lines();
    lines.add(3, lines.get(0));
    rewrite(lines);

    VerificationResult result = JsonLinesAuditSink.verify(file());

    assertThat(result.firstBadLine()).hasValue(4);
    assertThat(result.problem()).startsWith("line 4: expected seq 4 but found 1");
  }

  @Test
  void truncatedLastLineIsDetected() throws Exception {
    writeEvents(5);
    byte[] bytes = Files.readAllBytes(file());
    Files.write(file(), java.util.Arrays.copyOf(bytes, bytes.length - 10));

    VerificationResult result = JsonLinesAuditSink.verify(file());

    assertThat(result.firstBadLine()).hasValue(5);
    assertThat(result.linesChecked()).isEqualTo(5);
    assertThat(result.problem()).startsWith("line 5: incomplete record");
  }

  @Test
  void malformedJsonIsDetected() throws Exception {
    writeEvents(3);
    List<String> lines = lines();
    lines.set(1, "{not json");
    rewrite(lines);

    VerificationResult result = JsonLinesAuditSink.verify(file());

    assertThat(result.firstBadLine()).hasValue(2);
    assertThat(result.problem()).isEqualTo("line 2: malformed JSON");
  }

  @Test
  void emptyFileIsValid() throws Exception {
    Files.createFile(file());

    assertThat(JsonLinesAuditSink.verify(file()))
        .isEqualTo(new VerificationResult(true, 0, OptionalLong.empty(), null));
  }

  @Test
  void reopeningContinuesTheChain() throws Exception {
    writeEvents(3);
    try (JsonLinesAuditSink sink = open()) {
      assertThat(sink.lastSeq()).isEqualTo(3);
      sink.record(event(4));
    }

    List<String> lines = lines();
    assertThat(JSONObjectUtils.parse(lines.get(3)).get("seq")).isEqualTo(4L);
    assertThat(JSONObjectUtils.parse(lines.get(3)).get("prev")).isEqualTo(sha256(lines.get(2)));
    assertThat(JsonLinesAuditSink.verify(file()))
        .isEqualTo(new VerificationResult(true, 4, OptionalLong.empty(), null));
  }

  @Test
  void fileEndingInAnIncompleteRecordIsNotAppendedTo() throws Exception {
    writeEvents(2);
    Files.writeString(file(), "{\"seq\":3", java.nio.file.StandardOpenOption.APPEND);

    assertThatThrownBy(this::open)
        .isInstanceOf(JitAccessException.class)
        .hasMessageContaining(file().toString())
        .hasMessageContaining("incomplete record");
  }

  @Test
  void secondWriterOnTheSameFileIsRefused() {
    try (JsonLinesAuditSink first = open()) {
      assertThatThrownBy(this::open)
          .isInstanceOf(JitAccessException.class)
          .hasMessageContaining("only one writer");
      first.record(event(1));
    }
    assertThat(JsonLinesAuditSink.verify(file()).valid()).isTrue();
  }

  @Test
  void concurrentWritersProduceAValidChain() throws Exception {
    int threads = 8;
    int perThread = 200;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (JsonLinesAuditSink sink = JsonLinesAuditSink.builder().path(file()).fsync(false).build()) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    sink.record(event(i));
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> future : futures) {
        future.get();
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(JsonLinesAuditSink.verify(file()))
        .isEqualTo(new VerificationResult(true, threads * perThread, OptionalLong.empty(), null));
  }

  @Test
  void closedSinkRefusesRecords() {
    JsonLinesAuditSink sink = open();
    sink.close();
    sink.close();

    assertThatThrownBy(() -> sink.record(event(1)))
        .isInstanceOf(JitAccessException.class)
        .hasMessage("audit file " + file() + " is closed");
  }

  @Test
  void oversizedRecordIsRefusedAndTheChainStaysIntact() {
    try (JsonLinesAuditSink sink = open()) {
      sink.record(event(1));
      AuditEvent huge = new AuditEvent(T0, AuditEvent.Type.WARNING, null, null, null, "x".repeat(2 << 20));
      assertThatThrownBy(() -> sink.record(huge))
          .isInstanceOf(JitAccessException.class)
          .hasMessageContaining("larger than the limit");
      sink.record(event(2));
    }

    assertThat(JsonLinesAuditSink.verify(file()).linesChecked()).isEqualTo(2);
    assertThat(JsonLinesAuditSink.verify(file()).valid()).isTrue();
  }

  @Test
  void unopenableFileFailsWithItsPath() {
    Path inMissingDir = dir.resolve("no-such-dir").resolve("audit.jsonl");

    assertThatThrownBy(() -> JsonLinesAuditSink.builder().path(inMissingDir).build())
        .isInstanceOf(JitAccessException.class)
        .hasMessageStartingWith("cannot open audit file " + inMissingDir);
    assertThatThrownBy(() -> JsonLinesAuditSink.verify(inMissingDir))
        .isInstanceOf(JitAccessException.class)
        .hasMessageStartingWith("cannot read audit file " + inMissingDir);
  }

  @Test
  void builderChecksItsInput() {
    assertThatThrownBy(() -> JsonLinesAuditSink.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("path must be set");
    assertThatThrownBy(() -> JsonLinesAuditSink.builder().fsync(true).fsync(false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("fsync was already set to true");
  }
}
