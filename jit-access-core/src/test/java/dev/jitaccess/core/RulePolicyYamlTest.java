package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class RulePolicyYamlTest {

  private static final String VALID =
      """
      roles:
        viewer: [view]
        operator: [edit, view]
      bindings:
        - users: [alice@example.com]
          role: operator
          clusters: [prod-*]
          namespaces: [payments, shop]
          maxTtl: 2h
        - groups: [sre]
          role: viewer
          clusters: ["*"]
      """;

  private static RulePolicyProvider load(String yaml) {
    return RulePolicyProvider.fromYaml(new StringReader(yaml), "policy.yaml");
  }

  private static PolicyFileException failure(String yaml) {
    PolicyFileException e = catchThrowableOfType(PolicyFileException.class, () -> load(yaml));
    assertThat(e).as("expected a PolicyFileException").isNotNull();
    String position = e.line() == 0 ? "" : ":" + e.line() + ":" + e.column();
    assertThat(e.getMessage()).isEqualTo("policy.yaml" + position + ": " + e.reason());
    return e;
  }

  /** The binding part of VALID with one line replaced, so the error position is predictable. */
  private static String validWith(String line, String replacement) {
    assertThat(VALID).contains(line);
    return VALID.replace(line, replacement);
  }

  @Test
  void validFileLoadsAndEvaluates() {
    RulePolicyProvider policy = load(VALID);

    assertThat(policy.evaluate(AccessRequest.of(Subject.of("alice@example.com"), "prod-1")))
        .isEqualTo(
            new Decision.Granted(
                List.of(
                    Permission.inNamespace("edit", "payments"),
                    Permission.inNamespace("edit", "shop"),
                    Permission.inNamespace("view", "payments"),
                    Permission.inNamespace("view", "shop")),
                Duration.ofHours(2)));
    assertThat(policy.evaluate(AccessRequest.of(Subject.of("bob", "sre"), "dev-1")))
        .isEqualTo(new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofHours(1)));
    assertThat(policy.evaluate(AccessRequest.of(Subject.of("bob"), "dev-1")))
        .isInstanceOf(Decision.Denied.class);
  }

  @Test
  void explicitlyEmptyPolicyDeniesEverything() {
    RulePolicyProvider policy = load("roles: {}\nbindings: []\n");

    assertThat(policy.evaluate(AccessRequest.of(Subject.of("root", "admins"), "prod-1")))
        .isInstanceOf(Decision.Denied.class);
  }

  @Test
  void syntaxErrorNamesLineAndColumn() {
    PolicyFileException e = failure("roles:\n  viewer: [view]\n  bad: x\n    y: z\nbindings: []\n");

    assertThat(e.line()).isEqualTo(4);
    assertThat(e.column()).isEqualTo(6);
    assertThat(e.reason()).startsWith("YAML syntax error: mapping values are not allowed here");
  }

  @Test
  void unclosedFlowListIsASyntaxError() {
    PolicyFileException e = failure("roles:\n  viewer: [view\nbindings: []\n");

    assertThat(e.reason()).startsWith("YAML syntax error");
    assertThat(e.line()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void unknownTopLevelKeySuggestsTheRightOne() {
    PolicyFileException e = failure("rols:\n  viewer: [view]\nbindings: []\n");

    assertThat(e.line()).isEqualTo(1);
    assertThat(e.column()).isEqualTo(1);
    assertThat(e.reason())
        .isEqualTo("unknown key 'rols' in the policy; did you mean 'roles'? Allowed keys: [roles, bindings]");
  }

  @Test
  void unknownBindingKeyIsRefused() {
    PolicyFileException e = failure(validWith("    namespaces: [payments, shop]", "    namspaces: [payments]"));

    assertThat(e.line()).isEqualTo(8);
    assertThat(e.column()).isEqualTo(5);
    assertThat(e.reason()).startsWith("unknown key 'namspaces' in binding #1; did you mean 'namespaces'?");
  }

  @Test
  void wrongTypeNamesWhatWasFound() {
    PolicyFileException scalarForList = failure(validWith("    clusters: [prod-*]", "    clusters: prod-1"));
    assertThat(scalarForList.line()).isEqualTo(7);
    assertThat(scalarForList.column()).isEqualTo(15);
    assertThat(scalarForList.reason())
        .isEqualTo("wrong type: 'clusters' must be a list such as [a, b] but is 'prod-1'");

    PolicyFileException norway = failure(validWith("  - groups: [sre]", "  - groups: [sre, no]"));
    assertThat(norway.line()).isEqualTo(10);
    assertThat(norway.column()).isEqualTo(19);
    assertThat(norway.reason()).startsWith("wrong type: a group must be a string but is the boolean no");

    PolicyFileException number = failure(validWith("    maxTtl: 2h", "    maxTtl: 3600"));
    assertThat(number.line()).isEqualTo(9);
    assertThat(number.reason()).contains("must be a string but is the number 3600");
  }

  @Test
  void unknownRoleIsRefusedAtTheRoleValue() {
    PolicyFileException e = failure(validWith("    role: operator", "    role: operater"));

    assertThat(e.line()).isEqualTo(6);
    assertThat(e.column()).isEqualTo(11);
    assertThat(e.reason()).isEqualTo("unknown role 'operater'; defined roles: [viewer, operator]");
  }

  @Test
  void rolesMayBeDefinedAfterTheBindingsThatUseThem() {
    RulePolicyProvider policy =
        load("bindings:\n  - users: [a]\n    role: viewer\n    clusters: ['*']\nroles:\n  viewer: [view]\n");

    assertThat(policy.evaluate(AccessRequest.of(Subject.of("a"), "c"))).isInstanceOf(Decision.Granted.class);
  }

  @Test
  void badDurationIsRefused() {
    PolicyFileException e = failure(validWith("    maxTtl: 2h", "    maxTtl: 2 hours"));

    assertThat(e.line()).isEqualTo(9);
    assertThat(e.column()).isEqualTo(13);
    assertThat(e.reason())
        .isEqualTo("maxTtl must be a positive duration such as 2h, 30m, 1h30m or PT2H but was '2 hours'");
    assertThat(failure(validWith("    maxTtl: 2h", "    maxTtl: 0m")).reason()).contains("positive duration");
    assertThat(load(validWith("    maxTtl: 2h", "    maxTtl: PT1H30M")).bindings().get(0).maxTtl())
        .isEqualTo(Duration.ofMinutes(90));
  }

  @Test
  void namespaceGlobsAndEmptyNamespaceListsAreRefused() {
    PolicyFileException glob = failure(validWith("[payments, shop]", "[pay*, shop]"));
    assertThat(glob.line()).isEqualTo(8);
    assertThat(glob.column()).isEqualTo(18);
    assertThat(glob.reason()).contains("namespace 'pay*' is a glob");

    PolicyFileException empty = failure(validWith("[payments, shop]", "[]"));
    assertThat(empty.line()).isEqualTo(8);
    assertThat(empty.reason()).contains("at least one namespace");

    assertThat(failure(validWith("[payments, shop]", "[kube_system]")).reason())
        .contains("can never match a namespace");
  }

  @Test
  void badClusterGlobIsRefused() {
    PolicyFileException e = failure(validWith("[prod-*]", "[prod-*, Prod-*]"));

    assertThat(e.line()).isEqualTo(7);
    assertThat(e.column()).isEqualTo(24);
    assertThat(e.reason()).contains("'Prod-*' is not a valid cluster glob");
  }

  @Test
  void missingRequiredKeysAreNamed() {
    PolicyFileException noClusters = failure(validWith("    clusters: [\"*\"]\n", ""));
    assertThat(noClusters.line()).isEqualTo(10);
    assertThat(noClusters.reason()).isEqualTo("binding #2 is missing the key 'clusters'; use [\"*\"] for every cluster");

    PolicyFileException noSubjects = failure(validWith("  - groups: [sre]\n    role: viewer", "  - role: viewer"));
    assertThat(noSubjects.line()).isEqualTo(10);
    assertThat(noSubjects.reason()).isEqualTo("a binding needs at least one user or group");

    assertThat(failure("roles: {}\n").reason()).isEqualTo("the policy is missing the key 'bindings'");
  }

  @Test
  void duplicateKeysAreRefused() {
    PolicyFileException e = failure(validWith("    maxTtl: 2h", "    maxTtl: 2h\n    role: viewer"));

    assertThat(e.line()).isEqualTo(10);
    assertThat(e.reason()).isEqualTo("duplicate key 'role' in binding #1 (first on line 6)");
  }

  @Test
  void javaTypeTagIsRefused() {
    PolicyFileException e =
        failure("roles:\n  viewer: !!java.lang.Runtime [view]\nbindings: []\n");

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.column()).isEqualTo(11);
    assertThat(e.reason()).contains("tag '!!java.lang.Runtime' is not allowed");
  }

  @Test
  void localTagsAndMergeKeysAreRefused() {
    assertThat(failure("roles:\n  viewer: [!foo view]\nbindings: []\n").reason())
        .contains("tag '!foo' is not allowed");
    PolicyFileException merge =
        failure("roles:\n  viewer: [view]\nbindings:\n  - <<: {users: [a]}\n    role: viewer\n    clusters: [c]\n");
    assertThat(merge.line()).isEqualTo(4);
    assertThat(merge.reason()).isEqualTo("merge keys (<<) are not supported in a policy");
  }

  @Test
  void billionLaughsIsRefusedFastWithItsLine() {
    StringBuilder bomb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (int i = 1; i < 10; i++) {
      bomb.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 9; j++) {
        bomb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
      }
      bomb.append("]\n");
    }
    String yaml = "roles:\n" + bomb.toString().indent(2) + "bindings: []\n";

    PolicyFileException e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> failure(yaml));

    assertThat(e.line()).isEqualTo(4);
    assertThat(e.reason()).isEqualTo("more than 10 aliases: alias bombs are refused");
  }

  @Test
  void deepNestingIsRefused() {
    String yaml = "roles:\n  viewer: " + "[".repeat(50) + "view" + "]".repeat(50) + "\nbindings: []\n";

    PolicyFileException e = failure(yaml);

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.reason()).isEqualTo("nested deeper than 10 levels");
  }

  @Test
  void emptyFileAndSeveralDocumentsAreRefused() {
    assertThat(failure("# nothing here\n").reason()).startsWith("the policy is empty");
    assertThat(failure("roles: {}\nbindings: []\n---\nroles: {}\nbindings: []\n").reason())
        .contains("expected a single document");
  }

  @Test
  void fileErrorsNameTheFilePath(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, validWith("    role: operator", "    role: operater"));

    assertThatThrownBy(() -> RulePolicyProvider.fromYaml(file))
        .isInstanceOf(PolicyFileException.class)
        .hasMessage(file + ":6:11: unknown role 'operater'; defined roles: [viewer, operator]");
    Path missing = dir.resolve("missing.yaml");
    assertThatThrownBy(() -> RulePolicyProvider.fromYaml(missing))
        .isInstanceOf(PolicyFileException.class)
        .hasMessageStartingWith(missing + ": cannot read the policy file");
  }

  @Test
  void validFileFromDiskLoads(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, VALID);

    assertThat(RulePolicyProvider.fromYaml(file).bindings()).hasSize(2);
  }
}
