package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Keeps docs/policy.md honest: its YAML examples must load and mean what the text says. */
final class RulePolicyDocumentationTest {

  private static final Path DOC = Path.of("..", "docs", "policy.md");
  private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);

  private static List<String> yamlBlocks() throws IOException {
    List<String> blocks = new ArrayList<>();
    Matcher m = YAML_BLOCK.matcher(Files.readString(DOC));
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }

  private static Decision evaluate(RulePolicyProvider policy, Subject subject, String cluster) {
    return policy.evaluate(AccessRequest.of(subject, cluster));
  }

  @Test
  void everyYamlBlockInTheDocLoads() throws IOException {
    List<String> blocks = yamlBlocks();

    assertThat(blocks).isNotEmpty();
    for (int i = 0; i < blocks.size(); i++) {
      assertThat(RulePolicyProvider.fromYaml(new StringReader(blocks.get(i)), DOC + " block " + (i + 1)))
          .isNotNull();
    }
  }

  @Test
  void fullExampleMeansWhatTheDocSays() throws IOException {
    RulePolicyProvider policy =
        RulePolicyProvider.fromYaml(new StringReader(yamlBlocks().get(0)), DOC.toString());

    assertThat(evaluate(policy, Subject.of("alice@example.com"), "prod-eu-1"))
        .isEqualTo(
            new Decision.Granted(
                List.of(
                    Permission.inNamespace("edit", "payments"),
                    Permission.inNamespace("edit", "shop"),
                    Permission.inNamespace("view", "payments"),
                    Permission.inNamespace("view", "shop")),
                Duration.ofHours(2)));
    assertThat(evaluate(policy, Subject.of("alice@example.com", "sre"), "prod-eu-1"))
        .isEqualTo(
            new Decision.Granted(
                List.of(
                    Permission.inNamespace("edit", "payments"),
                    Permission.inNamespace("edit", "shop"),
                    Permission.clusterWide("view")),
                Duration.ofHours(1)));
    assertThat(evaluate(policy, Subject.of("carol"), "prod-eu-1"))
        .isEqualTo(Decision.denied("no binding allows carol on cluster prod-eu-1"));
    assertThat(evaluate(policy, Subject.of("dave", "oncall"), "prod-eu-2"))
        .isEqualTo(
            new Decision.Granted(
                List.of(Permission.inNamespace("view", "shop"), Permission.inNamespace("pod-exec", "shop")),
                Duration.ofMinutes(30)));
    assertThat(evaluate(policy, Subject.of("bob@example.com"), "prod-eu-10")).isInstanceOf(Decision.Denied.class);
  }
}
