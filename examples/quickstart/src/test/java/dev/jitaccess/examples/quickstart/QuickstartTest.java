package dev.jitaccess.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class QuickstartTest {
  @TempDir Path dir;

  @Test
  void scriptedDemoBehavesAsDescribedWithRealKubectl() throws Exception {
    assumeTrue(Kubectl.installed(), "kubectl is not on the PATH: the scripted demo drives the real kubectl");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    int status =
        Quickstart.run(
            Quickstart.Options.parse("--script", "--sandbox", "--dir", dir.toString()),
            new PrintStream(bytes, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(new byte[0]));

    String output = bytes.toString(StandardCharsets.UTF_8);
    assertThat(status).as(output).isZero();
    assertThat(output)
        .contains("NO RBAC ENFORCEMENT")
        .contains(DemoSteps.BOB_DENIAL)
        .contains("hash chain: intact")
        .contains("Every step behaved as described.")
        .doesNotContain("UNEXPECTED");
    assertThat(dir.resolve("alice.yaml")).exists();
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("\"REVOKED\"");
  }

  @Test
  void interactiveDemoPrintsTheCommandsAndRevokesOnRequest() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    String typed = "grants\nrevoke alice\nverify\nquit\n";

    int status =
        Quickstart.run(
            Quickstart.Options.parse("--sandbox", "--dir", dir.toString()),
            new PrintStream(bytes, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(typed.getBytes(StandardCharsets.UTF_8)));

    String output = bytes.toString(StandardCharsets.UTF_8);
    assertThat(status).as(output).isZero();
    assertThat(output)
        .contains("kubectl --kubeconfig " + dir.toAbsolutePath().resolve("alice.yaml") + " get ns")
        .contains("kubectl --kubeconfig " + dir.toAbsolutePath().resolve("bob.yaml") + " get ns")
        .contains("audit:   " + dir.toAbsolutePath().resolve("audit.jsonl"))
        .contains("no active grants")
        .contains("revoked alice@example.com")
        .contains("hash chain: intact");
    assertThat(Files.readString(dir.resolve("alice.yaml"))).contains("server: https://").contains("/clusters/demo");
  }

  @Test
  void unknownOptionIsRefusedWithTheValidOnes() {
    assertThatThrownBy(() -> Quickstart.Options.parse("--scripted"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'--scripted'")
        .hasMessageContaining("--script, --sandbox or --dir");
  }
}
