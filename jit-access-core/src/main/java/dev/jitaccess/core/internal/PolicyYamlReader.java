package dev.jitaccess.core.internal;

import dev.jitaccess.core.ApprovalRule;
import dev.jitaccess.core.PolicyFileException;
import dev.jitaccess.core.RulePolicyProvider;
import dev.jitaccess.core.RulePolicyProvider.Binding;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads the YAML policy format of {@code docs/policy.md}.
 *
 * <p>Two passes over the text: the event stream first, to refuse tags, alias floods and deep nesting with
 * the line of the offending event (SnakeYAML's own alias and depth limits stay on as a backstop but report
 * no position); then the composed node tree, walked by hand so that every value keeps its line and column.
 * Nothing is ever constructed into Java objects, so no YAML type can instantiate a class.
 */
public final class PolicyYamlReader {

  /** The largest policy accepted, in characters. */
  static final int MAX_CHARS = 2 * 1024 * 1024;

  /** Anchors and aliases are for small reuse; more aliases than this is refused (alias bombs). */
  static final int MAX_ALIASES = 10;

  /** The format nests 4 levels; anything much deeper is not a policy. */
  static final int MAX_DEPTH = 10;

  private static final List<String> TOP_KEYS = List.of("roles", "bindings");
  private static final List<String> BINDING_KEYS =
      List.of(
          "users",
          "groups",
          "role",
          "clusters",
          "namespaces",
          "maxTtl",
          "activation",
          "selfApproval",
          "approvals",
          "approvers",
          "maxDuration",
          "justification",
          "pendingTimeout");
  private static final List<String> ELIGIBLE_KEYS =
      List.of("selfApproval", "approvals", "approvers", "maxDuration", "justification", "pendingTimeout");
  private static final List<String> APPROVER_KEYS = List.of("users", "groups");
  private static final Set<String> ALLOWED_TAGS =
      Set.of("!", Tag.STR.getValue(), Tag.SEQ.getValue(), Tag.MAP.getValue());

  private final String source;

  private PolicyYamlReader(String source) {
    this.source = source;
  }

  /** Reads a whole policy; the reader is not closed. */
  public static RulePolicyProvider read(Reader reader, String source) {
    PolicyYamlReader policyReader = new PolicyYamlReader(source);
    String text = policyReader.readBounded(reader);
    Yaml yaml = new Yaml(new SafeConstructor(loaderOptions()));
    try {
      policyReader.checkEvents(yaml.parse(new StringReader(text)));
      return policyReader.policy(yaml.compose(new StringReader(text)));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String context = e.getContext() == null ? "" : " (" + e.getContext() + ")";
      throw policyReader.fail(mark, "YAML syntax error: " + e.getProblem() + context, e);
    } catch (YAMLException e) {
      throw new PolicyFileException(source, 0, 0, "invalid YAML: " + e.getMessage(), e);
    }
  }

  private static LoaderOptions loaderOptions() {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setAllowRecursiveKeys(false);
    options.setMaxAliasesForCollections(MAX_ALIASES);
    options.setNestingDepthLimit(MAX_DEPTH);
    options.setCodePointLimit(MAX_CHARS);
    return options;
  }

  private String readBounded(Reader reader) {
    StringBuilder text = new StringBuilder();
    char[] buffer = new char[8192];
    try {
      for (int n; (n = reader.read(buffer)) >= 0; ) {
        text.append(buffer, 0, n);
        if (text.length() > MAX_CHARS) {
          throw new PolicyFileException(
              source, 0, 0, "the policy is larger than " + MAX_CHARS + " characters", null);
        }
      }
    } catch (IOException e) {
      throw new PolicyFileException(source, 0, 0, "cannot read the policy: " + e.getMessage(), e);
    }
    return text.toString();
  }

  private void checkEvents(Iterable<Event> events) {
    int aliases = 0;
    int depth = 0;
    for (Event event : events) {
      String tag = null;
      if (event instanceof AliasEvent) {
        if (++aliases > MAX_ALIASES) {
          throw fail(event.getStartMark(), "more than " + MAX_ALIASES + " aliases: alias bombs are refused", null);
        }
      } else if (event instanceof CollectionStartEvent start) {
        tag = start.getTag();
        if (++depth > MAX_DEPTH) {
          throw fail(event.getStartMark(), "nested deeper than " + MAX_DEPTH + " levels", null);
        }
      } else if (event instanceof CollectionEndEvent) {
        depth--;
      } else if (event instanceof ScalarEvent scalar) {
        tag = scalar.getTag();
      }
      if (tag != null && !ALLOWED_TAGS.contains(tag)) {
        throw fail(
            event.getStartMark(),
            "tag '" + tag.replace(Tag.PREFIX, "!!") + "' is not allowed: a policy is plain YAML without tags",
            null);
      }
    }
  }

  private RulePolicyProvider policy(@Nullable Node root) {
    if (root == null) {
      throw new PolicyFileException(
          source, 0, 0, "the policy is empty; it needs the keys 'roles' and 'bindings'", null);
    }
    Map<String, NodeTuple> top = keys(root, "the policy", TOP_KEYS);
    RulePolicyProvider.Builder policy = RulePolicyProvider.builder();
    Node roles = required(top, "roles", root, "the policy").getValueNode();
    Node bindings = required(top, "bindings", root, "the policy").getValueNode();
    Set<String> roleNames = new LinkedHashSet<>();
    for (NodeTuple role : keys(roles, "'roles'", null).values()) {
      String name = string(role.getKeyNode(), "a role name");
      List<String> clusterRoles = new ArrayList<>();
      for (Node element : list(role.getValueNode(), "role '" + name + "'")) {
        String clusterRole = string(element, "a ClusterRole name");
        clusterRoles.add(at(element, () -> PolicyRules.clusterRole(clusterRole)));
      }
      at(role.getKeyNode(), () -> policy.role(name, clusterRoles.toArray(String[]::new)));
      roleNames.add(name);
    }
    List<Node> elements = list(bindings, "'bindings'");
    for (int i = 0; i < elements.size(); i++) {
      Node element = elements.get(i);
      Binding binding = binding(element, "binding #" + (i + 1), roleNames);
      at(element, () -> policy.binding(binding));
    }
    return at(root, policy::build);
  }

  private Binding binding(Node node, String what, Set<String> roles) {
    Map<String, NodeTuple> keys = keys(node, what, BINDING_KEYS);
    Binding.Builder binding = Binding.builder();
    if (keys.containsKey("users")) {
      binding.users(strings(keys.get("users").getValueNode(), "'users'", "a user id", s -> PolicyRules.principal(s, "user")));
    }
    if (keys.containsKey("groups")) {
      binding.groups(strings(keys.get("groups").getValueNode(), "'groups'", "a group", s -> PolicyRules.principal(s, "group")));
    }
    Node roleNode = required(keys, "role", node, what).getValueNode();
    String role = string(roleNode, "'role'");
    if (!roles.contains(role)) {
      throw fail(
          roleNode, "unknown role '" + PolicyRules.printable(role) + "'; defined roles: " + roles, null);
    }
    binding.role(role);
    Node clusters = required(keys, "clusters", node, what).getValueNode();
    binding.clusters(strings(clusters, "'clusters'", "a cluster", PolicyRules::clusterGlob));
    if (keys.containsKey("namespaces")) {
      Node namespaces = keys.get("namespaces").getValueNode();
      String[] names = strings(namespaces, "'namespaces'", "a namespace", PolicyRules::namespace);
      at(namespaces, () -> binding.namespaces(names));
    }
    if (keys.containsKey("maxTtl")) {
      Node ttl = keys.get("maxTtl").getValueNode();
      String text = string(ttl, "'maxTtl' (a duration such as 2h, 30m or PT2H)");
      binding.maxTtl(at(ttl, () -> PolicyRules.parseDuration(text)));
    }
    ApprovalRule rule = approvalRule(node, keys, what);
    if (rule != null) {
      binding.eligible(rule);
    }
    return at(node, binding::build);
  }

  /** The approval rule of an {@code activation: eligible} binding; null for an active one. */
  private @Nullable ApprovalRule approvalRule(Node node, Map<String, NodeTuple> keys, String what) {
    boolean eligible = false;
    if (keys.containsKey("activation")) {
      Node activation = keys.get("activation").getValueNode();
      String value = string(activation, "'activation' (active or eligible)");
      if (!value.equals("active") && !value.equals("eligible")) {
        throw fail(
            activation,
            "activation must be 'active' or 'eligible' but was '" + PolicyRules.printable(value) + "'",
            null);
      }
      eligible = value.equals("eligible");
    }
    if (!eligible) {
      for (String key : ELIGIBLE_KEYS) {
        if (keys.containsKey(key)) {
          throw fail(
              keys.get(key).getKeyNode(),
              "'" + key + "' applies only to eligible bindings; add 'activation: eligible' to " + what,
              null);
        }
      }
      return null;
    }
    boolean selfApproval = keys.containsKey("selfApproval") && bool(keys.get("selfApproval").getValueNode(), "'selfApproval'");
    int approvals = keys.containsKey("approvals") ? integer(keys.get("approvals").getValueNode(), "'approvals'") : 1;
    String[] users = new String[0];
    String[] groups = new String[0];
    if (keys.containsKey("approvers")) {
      Node approvers = keys.get("approvers").getValueNode();
      Map<String, NodeTuple> approverKeys = keys(approvers, "'approvers'", APPROVER_KEYS);
      if (approverKeys.containsKey("users")) {
        users = strings(approverKeys.get("users").getValueNode(), "'approvers.users'", "a user id", s -> PolicyRules.principal(s, "user"));
      }
      if (approverKeys.containsKey("groups")) {
        groups = strings(approverKeys.get("groups").getValueNode(), "'approvers.groups'", "a group", s -> PolicyRules.principal(s, "group"));
      }
    }
    Duration maxDuration = duration(keys, "maxDuration", ApprovalRule.DEFAULT_MAX_DURATION);
    Duration pendingTimeout = duration(keys, "pendingTimeout", ApprovalRule.DEFAULT_PENDING_TIMEOUT);
    String justification = null;
    if (keys.containsKey("justification")) {
      Node pattern = keys.get("justification").getValueNode();
      justification = string(pattern, "'justification' (a regular expression)");
    }
    Set<String> userSet = new LinkedHashSet<>(List.of(users));
    Set<String> groupSet = new LinkedHashSet<>(List.of(groups));
    String pattern = justification;
    return at(
        node,
        () -> new ApprovalRule(selfApproval, approvals, userSet, groupSet, maxDuration, pattern, pendingTimeout));
  }

  private Duration duration(Map<String, NodeTuple> keys, String key, Duration fallback) {
    if (!keys.containsKey(key)) {
      return fallback;
    }
    Node node = keys.get(key).getValueNode();
    String text = string(node, "'" + key + "' (a duration such as 2h, 30m or PT2H)");
    return at(
        node,
        () -> {
          try {
            return PolicyRules.parseDuration(text);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                key + " must be a positive duration such as 2h, 30m, 1h30m or PT2H but was '"
                    + PolicyRules.printable(text) + "'", e);
          }
        });
  }

  private boolean bool(Node node, String what) {
    if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.BOOL)) {
      return Boolean.parseBoolean(scalar.getValue().toLowerCase(Locale.ROOT))
          || scalar.getValue().equalsIgnoreCase("yes")
          || scalar.getValue().equalsIgnoreCase("on");
    }
    throw fail(node, "wrong type: " + what + " must be true or false but is " + describe(node), null);
  }

  private int integer(Node node, String what) {
    if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.INT)) {
      try {
        return Integer.parseInt(scalar.getValue());
      } catch (NumberFormatException e) {
        throw fail(node, what + " must be a small whole number but is " + describe(node), e);
      }
    }
    throw fail(node, "wrong type: " + what + " must be a whole number but is " + describe(node), null);
  }

  private String[] strings(Node node, String what, String elementName, UnaryOperator<String> check) {
    List<String> values = new ArrayList<>();
    for (Node element : list(node, what)) {
      String value = string(element, elementName);
      values.add(at(element, () -> check.apply(value)));
    }
    return values.toArray(String[]::new);
  }

  private Map<String, NodeTuple> keys(Node node, String what, @Nullable List<String> allowed) {
    if (!(node instanceof MappingNode mapping)) {
      throw fail(node, "wrong type: " + what + " must be a mapping of keys to values but is " + describe(node), null);
    }
    Map<String, NodeTuple> keys = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node keyNode = tuple.getKeyNode();
      if (keyNode.getTag().equals(Tag.MERGE)) {
        throw fail(keyNode, "merge keys (<<) are not supported in a policy", null);
      }
      String key = string(keyNode, "a key in " + what);
      if (allowed != null && !allowed.contains(key)) {
        throw fail(keyNode, "unknown key '" + PolicyRules.printable(key) + "' in " + what + suggest(key, allowed), null);
      }
      NodeTuple first = keys.putIfAbsent(key, tuple);
      if (first != null) {
        throw fail(keyNode, "duplicate key '" + PolicyRules.printable(key) + "' in " + what + " (first on line "
            + (first.getKeyNode().getStartMark().getLine() + 1) + ")", null);
      }
    }
    return keys;
  }

  private NodeTuple required(Map<String, NodeTuple> keys, String key, Node parent, String what) {
    NodeTuple tuple = keys.get(key);
    if (tuple == null) {
      String hint = key.equals("clusters") ? "; use [\"*\"] for every cluster" : "";
      throw fail(parent, what + " is missing the key '" + key + "'" + hint, null);
    }
    return tuple;
  }

  private List<Node> list(Node node, String what) {
    if (!(node instanceof SequenceNode sequence)) {
      throw fail(node, "wrong type: " + what + " must be a list such as [a, b] but is " + describe(node), null);
    }
    return sequence.getValue();
  }

  private String string(Node node, String what) {
    if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.STR)) {
      return scalar.getValue();
    }
    String hint = node instanceof ScalarNode ? "; put it in quotes if it is meant as text" : "";
    throw fail(node, "wrong type: " + what + " must be a string but is " + describe(node) + hint, null);
  }

  private static String describe(Node node) {
    if (node instanceof SequenceNode) {
      return "a list";
    }
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    Tag tag = node.getTag();
    String value = PolicyRules.printable(((ScalarNode) node).getValue());
    if (tag.equals(Tag.NULL)) {
      return "empty";
    }
    if (tag.equals(Tag.BOOL)) {
      return "the boolean " + value + " (yes, no, on, off, true and false are booleans in YAML)";
    }
    if (tag.equals(Tag.INT) || tag.equals(Tag.FLOAT)) {
      return "the number " + value;
    }
    if (tag.equals(Tag.TIMESTAMP)) {
      return "the timestamp " + value;
    }
    return "'" + value + "'";
  }

  private static String suggest(String key, List<String> allowed) {
    for (String candidate : allowed) {
      if (distance(key.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT)) <= 2) {
        return "; did you mean '" + candidate + "'? Allowed keys: " + allowed;
      }
    }
    return "; allowed keys: " + allowed;
  }

  /** Levenshtein distance, for "did you mean" hints on keys (short strings only). */
  private static int distance(String a, String b) {
    if (a.length() > 64 || b.length() > 64) {
      return Integer.MAX_VALUE;
    }
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  private <T> T at(@Nullable Node node, Supplier<T> action) {
    try {
      return action.get();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw fail(node == null ? null : node.getStartMark(), e.getMessage(), e);
    }
  }

  private PolicyFileException fail(Node node, String reason, @Nullable Throwable cause) {
    return fail(node.getStartMark(), reason, cause);
  }

  private PolicyFileException fail(@Nullable Mark mark, String reason, @Nullable Throwable cause) {
    int line = mark == null ? 0 : mark.getLine() + 1;
    int column = mark == null ? 0 : mark.getColumn() + 1;
    return new PolicyFileException(source, line, column, reason, cause);
  }
}
