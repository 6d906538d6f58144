package dev.jitaccess.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Checks that {@code deploy/agent-rbac.yaml} grants the agent what it needs and nothing dangerous. */
final class AgentRbacTest {
  private static final Path FILE = Path.of("..", "deploy", "agent-rbac.yaml");
  private static final Set<String> FORBIDDEN_VERBS = Set.of("*", "escalate", "impersonate");

  static List<Map<?, ?>> load(String yaml) {
    List<Map<?, ?>> documents = new ArrayList<>();
    for (Object document : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
      if (document instanceof Map<?, ?> map) {
        documents.add(map);
      }
    }
    return documents;
  }

  static List<String> strings(Object value) {
    List<String> out = new ArrayList<>();
    if (value instanceof List<?> list) {
      for (Object item : list) {
        out.add(String.valueOf(item));
      }
    }
    return out;
  }

  /** Every way a Role or ClusterRole in the documents is too powerful. */
  static List<String> violations(List<Map<?, ?>> documents) {
    List<String> problems = new ArrayList<>();
    for (Map<?, ?> document : documents) {
      Object kind = document.get("kind");
      if (!"Role".equals(kind) && !"ClusterRole".equals(kind)) {
        continue;
      }
      Object rules = document.get("rules");
      if (document.containsKey("aggregationRule")) {
        problems.add(kind + " uses an aggregationRule");
      }
      if (!(rules instanceof List<?> ruleList)) {
        continue;
      }
      for (Object item : ruleList) {
        if (!(item instanceof Map<?, ?> rule)) {
          problems.add("rule is not a map: " + item);
          continue;
        }
        List<String> verbs = strings(rule.get("verbs"));
        List<String> resources = strings(rule.get("resources"));
        List<String> groups = strings(rule.get("apiGroups"));
        List<String> names = strings(rule.get("resourceNames"));
        if (rule.containsKey("nonResourceURLs")) {
          problems.add(kind + " grants nonResourceURLs");
        }
        for (String verb : verbs) {
          if (FORBIDDEN_VERBS.contains(verb)) {
            problems.add(kind + " grants verb " + verb);
          }
        }
        for (String value : concat(resources, groups, names)) {
          if (value.contains("*")) {
            problems.add(kind + " uses wildcard " + value);
          }
        }
        for (String resource : resources) {
          if (resource.equals("secrets") || resource.startsWith("secrets/")) {
            problems.add(kind + " grants access to " + resource);
          }
        }
        if (verbs.contains("bind")
            && (names.isEmpty() || !Set.of("clusterroles", "roles").containsAll(resources))) {
          problems.add(kind + " grants bind without resourceNames on roles");
        }
      }
    }
    return problems;
  }

  private static List<String> concat(List<String> a, List<String> b, List<String> c) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    all.addAll(c);
    return all;
  }

  static List<Map<?, ?>> shippedDocuments() throws IOException {
    return load(Files.readString(FILE, StandardCharsets.UTF_8));
  }

  static Map<?, ?> find(List<Map<?, ?>> documents, String kind) {
    return documents.stream()
        .filter(d -> kind.equals(d.get("kind")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " in " + FILE));
  }

  @Test
  void shippedRbacGrantsNothingDangerous() throws IOException {
    List<Map<?, ?>> documents = shippedDocuments();

    assertThat(documents).isNotEmpty();
    assertThat(violations(documents)).isEmpty();
  }

  @Test
  void shippedRbacGrantsWhatTheAgentNeedsOnlyInItsNamespace() throws IOException {
    List<Map<?, ?>> documents = shippedDocuments();

    Map<?, ?> role = find(documents, "Role");
    assertThat(((Map<?, ?>) role.get("metadata")).get("namespace")).isEqualTo("jit-access");
    List<String> granted = new ArrayList<>();
    for (Object rule : (List<?>) role.get("rules")) {
      Map<?, ?> r = (Map<?, ?>) rule;
      for (String resource : strings(r.get("resources"))) {
        for (String verb : strings(r.get("verbs"))) {
          granted.add(resource + ":" + verb);
        }
      }
    }
    assertThat(granted)
        .contains(
            "serviceaccounts:get",
            "serviceaccounts:list",
            "serviceaccounts:create",
            "serviceaccounts:patch",
            "serviceaccounts:delete",
            "serviceaccounts/token:create",
            "configmaps:get");

    Map<?, ?> clusterRole = find(documents, "ClusterRole");
    List<String> clusterResources = new ArrayList<>();
    for (Object rule : (List<?>) clusterRole.get("rules")) {
      clusterResources.addAll(strings(((Map<?, ?>) rule).get("resources")));
    }
    assertThat(clusterResources)
        .containsExactlyInAnyOrder("rolebindings", "clusterrolebindings", "clusterroles")
        .doesNotContain("serviceaccounts", "serviceaccounts/token", "configmaps");

    for (String bindingKind : List.of("RoleBinding", "ClusterRoleBinding")) {
      Map<?, ?> binding = find(documents, bindingKind);
      assertThat((List<?>) binding.get("subjects"))
          .singleElement()
          .isEqualTo(Map.of("kind", "ServiceAccount", "name", "jit-access-agent", "namespace", "jit-access"));
    }
  }

  @Test
  void revocationConfigMapIsReadAndWrittenOnlyByName() throws IOException {
    Map<?, ?> role = find(shippedDocuments(), "Role");
    List<String> byName = new ArrayList<>();
    List<String> anyName = new ArrayList<>();
    for (Object rule : (List<?>) role.get("rules")) {
      Map<?, ?> r = (Map<?, ?>) rule;
      if (!strings(r.get("resources")).contains("configmaps")) {
        continue;
      }
      List<String> names = strings(r.get("resourceNames"));
      if (names.isEmpty()) {
        anyName.addAll(strings(r.get("verbs")));
      } else {
        assertThat(names).containsExactly(ConfigMapRevocationStore.Builder.DEFAULT_NAME);
        byName.addAll(strings(r.get("verbs")));
      }
    }
    assertThat(byName).containsExactlyInAnyOrder("get", "update");
    assertThat(anyName).containsExactly("create");
  }

  @Test
  void checkerCatchesEachKindOfOverreach() {
    String[] bad = {
      "{kind: ClusterRole, rules: [{apiGroups: [''], resources: [pods], verbs: ['*']}]}",
      "{kind: ClusterRole, rules: [{apiGroups: ['*'], resources: [pods], verbs: [get]}]}",
      "{kind: ClusterRole, rules: [{apiGroups: [''], resources: ['*'], verbs: [get]}]}",
      "{kind: ClusterRole, rules: [{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles],"
          + " verbs: [escalate]}]}",
      "{kind: ClusterRole, rules: [{apiGroups: [''], resources: [users], verbs: [impersonate]}]}",
      "{kind: Role, rules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]}",
      "{kind: ClusterRole, rules: [{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles],"
          + " verbs: [bind]}]}",
      "{kind: ClusterRole, rules: [{nonResourceURLs: ['/metrics'], verbs: [get]}]}",
    };
    for (String yaml : bad) {
      assertThat(violations(load(yaml))).as(yaml).isNotEmpty();
    }
  }
}
