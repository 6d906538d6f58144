package dev.jitaccess.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class QuickstartTest {
  @TempDir Path dir;

  @Test
  void everyStepBehavesAsDescribed() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int failures = new Quickstart(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(dir);
    String output = bytes.toString(StandardCharsets.UTF_8);

    assertThat(failures).as(output).isZero();
    assertThat(output)
        .contains("denied: no binding allows bob@example.com on cluster demo")
        .contains("hash chain: intact")
        .contains("\"type\":\"REVOKED\"");
  }
}
