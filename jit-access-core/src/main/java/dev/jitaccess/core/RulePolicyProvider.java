package dev.jitaccess.core;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.PolicyProvider;
import dev.jitaccess.core.internal.Glob;
import dev.jitaccess.core.internal.PolicyRules;
import dev.jitaccess.core.internal.PolicyYamlReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PolicyProvider} driven by rules: <em>roles</em> name sets of Kubernetes ClusterRoles, and
 * <em>bindings</em> give users and groups a role on clusters (matched by exact id or glob) and optionally only
 * in some namespaces, for at most a maximum TTL. Everything not allowed by a binding is denied.
 *
 * <p>Evaluation: every binding that names the subject's id (exact, case-sensitive) or one of its groups, and
 * whose cluster globs match the requested cluster, contributes one {@link Permission} per ClusterRole of its
 * role: cluster-wide when the binding has no namespaces, otherwise one per listed namespace. The decision's
 * {@code maxTtl} is the <em>smallest</em> {@link Binding#maxTtl()} of the contributing bindings (the secure
 * choice: no permission lives longer than every binding that grants it allows). A namespaced permission
 * whose ClusterRole is also granted cluster-wide is dropped as redundant. With no matching binding the result
 * is {@code Decision.denied("no binding allows <subject> on cluster <cluster>")}.
 *
 * <p>Namespaces in bindings must be concrete names: a RoleBinding lives in one concrete namespace, so a
 * namespace glob could not be turned into a permission. Globs ({@code *} any run of characters, {@code ?}
 * one character) are allowed only for clusters.
 *
 * <p>A binding with an {@link Binding#eligibility() approval rule} is <em>eligible</em> rather than active:
 * {@link #evaluate} ignores it, and it grants its permissions only through an access request that the engine
 * activated (see {@link #eligibleRoles(Subject, String)} and {@code docs/access-requests.md}).
 *
 * <p>Build it in code with {@link #builder()} or load it from YAML with {@link #fromYaml(Path)}; the file
 * format is documented in {@code docs/policy.md}.
 *
 * <p>Instances are immutable and thread-safe; {@link #evaluate(AccessRequest)} never blocks.
 *
 * @since 0.1.0
 */
public final class RulePolicyProvider implements PolicyProvider, EligibilityPolicy {

  /** The maximum TTL of a binding that does not set one: one hour. */
  public static final Duration DEFAULT_MAX_TTL = Duration.ofHours(1);

  private static final Logger log = LoggerFactory.getLogger(RulePolicyProvider.class);

  private final Map<String, List<String>> roles;
  private final List<Binding> bindings;
  private final List<List<Glob>> clusterGlobs;

  private RulePolicyProvider(Map<String, List<String>> roles, List<Binding> bindings) {
    this.roles = roles;
    this.bindings = bindings;
    List<List<Glob>> globs = new ArrayList<>();
    for (Binding binding : bindings) {
      globs.add(binding.clusters().stream().map(Glob::of).toList());
    }
    this.clusterGlobs = List.copyOf(globs);
  }

  /**
   * Starts a policy with no roles and no bindings (which would deny everything).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads a policy from a YAML file (UTF-8) in the format of {@code docs/policy.md}.
   *
   * @param file the policy file
   * @return the policy
   * @throws NullPointerException if {@code file} is null
   * @throws PolicyFileException if the file cannot be read or is not a valid policy; the message names the
   *     file, the line and column, and the reason
   */
  public static RulePolicyProvider fromYaml(Path file) {
    Objects.requireNonNull(file, "file");
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return fromYaml(reader, file.toString());
    } catch (IOException e) {
      throw new PolicyFileException(
          file.toString(), 0, 0, "cannot read the policy file: " + e.getMessage(), e);
    }
  }

  /**
   * Loads a policy from YAML text in the format of {@code docs/policy.md}. The reader is read to its end but
   * not closed.
   *
   * @param yaml the YAML text
   * @param sourceName how to name the source in error messages, such as a file name
   * @return the policy
   * @throws NullPointerException if an argument is null
   * @throws PolicyFileException if the text cannot be read or is not a valid policy; the message names the
   *     source, the line and column, and the reason
   */
  public static RulePolicyProvider fromYaml(Reader yaml, String sourceName) {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(sourceName, "sourceName");
    return PolicyYamlReader.read(yaml, sourceName);
  }

  /**
   * Evaluates a request against the bindings.
   *
   * @param request the request; not null
   * @return the permissions of every matching binding, or a denial when none matches
   * @throws NullPointerException if {@code request} is null
   */
  @Override
  public Decision evaluate(AccessRequest request) {
    Objects.requireNonNull(request, "request");
    Subject subject = request.subject();
    Set<Permission> permissions = new LinkedHashSet<>();
    Duration maxTtl = null;
    Set<String> eligibleOnly = new TreeSet<>();
    for (int i = 0; i < bindings.size(); i++) {
      Binding binding = bindings.get(i);
      if (binding.appliesTo(subject) && matchesCluster(i, request.cluster())) {
        if (binding.eligibility() != null) {
          eligibleOnly.add(binding.role());
          continue;
        }
        for (String clusterRole : roles.get(binding.role())) {
          if (binding.namespaces().isEmpty()) {
            permissions.add(Permission.clusterWide(clusterRole));
          } else {
            binding.namespaces().forEach(ns -> permissions.add(Permission.inNamespace(clusterRole, ns)));
          }
        }
        maxTtl = maxTtl == null || binding.maxTtl().compareTo(maxTtl) < 0 ? binding.maxTtl() : maxTtl;
      }
    }
    if (maxTtl == null) {
      log.debug("No binding allows {} on cluster {}", subject.id(), request.cluster());
      String hint =
          eligibleOnly.isEmpty() ? "" : "; eligible role(s) " + eligibleOnly + " need an approved access request";
      return Decision.denied(
          "no binding allows " + subject.id() + " on cluster " + request.cluster() + hint);
    }
    permissions.removeIf(
        p -> !p.isClusterWide() && permissions.contains(Permission.clusterWide(p.clusterRole())));
    log.debug("Granted {} on cluster {}: {} for at most {}", subject.id(), request.cluster(), permissions, maxTtl);
    return new Decision.Granted(List.copyOf(permissions), maxTtl);
  }

  /**
   * The eligible bindings that apply to the subject on the cluster, one entry per binding, in definition
   * order: the role, its permissions there (cluster-wide or per namespace) and the binding's approval rule.
   *
   * @param subject the subject; not null
   * @param cluster a cluster id; not null
   * @return the entries; empty if none applies
   * @throws NullPointerException if an argument is null
   */
  @Override
  public List<EligibleRole> eligibleRoles(Subject subject, String cluster) {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(cluster, "cluster");
    List<EligibleRole> eligible = new ArrayList<>();
    for (int i = 0; i < bindings.size(); i++) {
      Binding binding = bindings.get(i);
      ApprovalRule rule = binding.eligibility();
      if (rule != null && binding.appliesTo(subject) && matchesCluster(i, cluster)) {
        List<Permission> permissions = new ArrayList<>();
        for (String clusterRole : roles.get(binding.role())) {
          if (binding.namespaces().isEmpty()) {
            permissions.add(Permission.clusterWide(clusterRole));
          } else {
            binding.namespaces().forEach(ns -> permissions.add(Permission.inNamespace(clusterRole, ns)));
          }
        }
        eligible.add(new EligibleRole(binding.role(), permissions, rule));
      }
    }
    return List.copyOf(eligible);
  }

  private boolean matchesCluster(int binding, String cluster) {
    for (Glob glob : clusterGlobs.get(binding)) {
      if (glob.matches(cluster)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The roles, in definition order.
   *
   * @return role name to ClusterRole names; unmodifiable
   */
  public Map<String, List<String>> roles() {
    return roles;
  }

  /**
   * The bindings, in definition order.
   *
   * @return the bindings; unmodifiable
   */
  public List<Binding> bindings() {
    return bindings;
  }

  @Override
  public String toString() {
    return "RulePolicyProvider[roles=" + roles.keySet() + ", bindings=" + bindings.size() + "]";
  }

  /**
   * One rule: these users and groups may use this role on these clusters, in these namespaces (or
   * cluster-wide), for at most this long.
   *
   * <p>Users and groups are matched exactly (case-sensitive) against {@link Subject#id()} and
   * {@link Subject#groups()}; they are stripped of surrounding white space like the subject's. At least one
   * user or group is required. Cluster globs use {@code *} and {@code ?} over {@code [a-z0-9-]} and must be
   * able to match a valid cluster id; at least one is required ({@code "*"} for every cluster). Namespaces are
   * concrete namespace names; an empty list means cluster-wide. Collections are copied and unmodifiable.
   *
   * <p>Instances are immutable and thread-safe.
   *
   * @param users the user ids this binding applies to; possibly empty
   * @param groups the groups this binding applies to; possibly empty
   * @param role the name of a role of the policy
   * @param clusters the cluster ids or globs; not empty
   * @param namespaces the namespaces, or empty for cluster-wide permissions
   * @param maxTtl the longest a grant from this binding may live; positive
   * @param eligibility how an access request activates it, or {@code null} for an active (standing) binding
   * @since 0.1.0
   */
  public record Binding(
      Set<String> users,
      Set<String> groups,
      String role,
      List<String> clusters,
      List<String> namespaces,
      Duration maxTtl,
      @Nullable ApprovalRule eligibility) {

    /**
     * Validates and copies the components.
     *
     * @throws NullPointerException if a component or an element is null
     * @throws IllegalArgumentException if there is neither a user nor a group, no cluster, or a value is
     *     invalid (the message names it)
     */
    public Binding {
      users = checkedSet(users, "user");
      groups = checkedSet(groups, "group");
      if (users.isEmpty() && groups.isEmpty()) {
        throw new IllegalArgumentException("a binding needs at least one user or group");
      }
      role = PolicyRules.roleName(role);
      clusters = List.copyOf(new LinkedHashSet<>(Objects.requireNonNull(clusters, "clusters")));
      clusters.forEach(PolicyRules::clusterGlob);
      if (clusters.isEmpty()) {
        throw new IllegalArgumentException(
            "a binding needs at least one cluster; use \"*\" for every cluster");
      }
      namespaces = List.copyOf(new LinkedHashSet<>(Objects.requireNonNull(namespaces, "namespaces")));
      namespaces.forEach(PolicyRules::namespace);
      PolicyRules.maxTtl(maxTtl);
    }

    /**
     * An active (standing) binding.
     *
     * @param users the user ids this binding applies to; possibly empty
     * @param groups the groups this binding applies to; possibly empty
     * @param role the name of a role of the policy
     * @param clusters the cluster ids or globs; not empty
     * @param namespaces the namespaces, or empty for cluster-wide permissions
     * @param maxTtl the longest a grant from this binding may live; positive
     * @throws IllegalArgumentException as the canonical constructor
     */
    public Binding(
        Set<String> users,
        Set<String> groups,
        String role,
        List<String> clusters,
        List<String> namespaces,
        Duration maxTtl) {
      this(users, groups, role, clusters, namespaces, maxTtl, null);
    }

    /**
     * Whether the binding needs an access request ({@code activation: eligible}).
     *
     * @return true when it has an approval rule
     */
    public boolean isEligible() {
      return eligibility != null;
    }

    private static Set<String> checkedSet(Set<String> values, String what) {
      Set<String> checked = new TreeSet<>();
      for (String value : Objects.requireNonNull(values, what + "s")) {
        checked.add(PolicyRules.principal(value, what));
      }
      return Collections.unmodifiableSet(checked);
    }

    /**
     * Starts a binding; {@link Builder#maxTtl(Duration)} defaults to {@link #DEFAULT_MAX_TTL}.
     *
     * @return a new builder
     */
    public static Builder builder() {
      return new Builder();
    }

    /**
     * Whether this binding names the subject's id or one of its groups.
     *
     * @param subject a subject; not null
     * @return true if the binding applies to the subject
     */
    public boolean appliesTo(Subject subject) {
      return users.contains(subject.id()) || subject.groups().stream().anyMatch(groups::contains);
    }

    /**
     * Builds a {@link Binding}. Each property may be set once. Not thread-safe.
     *
     * @since 0.1.0
     */
    public static final class Builder {
      private @Nullable Set<String> users;
      private @Nullable Set<String> groups;
      private @Nullable String role;
      private @Nullable List<String> clusters;
      private @Nullable List<String> namespaces;
      private @Nullable Duration maxTtl;
      private @Nullable ApprovalRule eligibility;

      private Builder() {}

      /**
       * Makes the binding eligible instead of active: it grants nothing by itself, only through an access
       * request approved under {@code rule}.
       *
       * @param rule the approval rule
       * @return this builder
       * @throws NullPointerException if the argument is null
       * @throws IllegalStateException if it was already set
       */
      public Builder eligible(ApprovalRule rule) {
        once(this.eligibility, "eligible");
        this.eligibility = Objects.requireNonNull(rule, "rule");
        return this;
      }

      /**
       * Sets the user ids the binding applies to.
       *
       * @param users user ids, matched exactly against {@link Subject#id()}
       * @return this builder
       * @throws IllegalArgumentException if an id is blank, too long or has control characters
       * @throws IllegalStateException if users were already set
       */
      public Builder users(String... users) {
        once(this.users, "users");
        this.users = checkedSet(new LinkedHashSet<>(Arrays.asList(users)), "user");
        return this;
      }

      /**
       * Sets the groups the binding applies to.
       *
       * @param groups group names, matched exactly against {@link Subject#groups()}
       * @return this builder
       * @throws IllegalArgumentException if a name is blank, too long or has control characters
       * @throws IllegalStateException if groups were already set
       */
      public Builder groups(String... groups) {
        once(this.groups, "groups");
        this.groups = checkedSet(new LinkedHashSet<>(Arrays.asList(groups)), "group");
        return this;
      }

      /**
       * Sets the role; {@link RulePolicyProvider.Builder#build()} checks that it is defined.
       *
       * @param role a role name
       * @return this builder
       * @throws IllegalArgumentException if the name is invalid
       * @throws IllegalStateException if the role was already set
       */
      public Builder role(String role) {
        once(this.role, "role");
        this.role = PolicyRules.roleName(role);
        return this;
      }

      /**
       * Sets the cluster ids or globs, such as {@code "prod-*"} or {@code "*"}.
       *
       * @param clusters cluster ids or globs
       * @return this builder
       * @throws IllegalArgumentException if a glob is invalid or can never match a cluster id
       * @throws IllegalStateException if clusters were already set
       */
      public Builder clusters(String... clusters) {
        once(this.clusters, "clusters");
        List<String> checked = Arrays.asList(clusters.clone());
        checked.forEach(PolicyRules::clusterGlob);
        this.clusters = checked;
        return this;
      }

      /**
       * Limits the binding to these concrete namespaces; without this call it is cluster-wide.
       *
       * @param namespaces namespace names (no globs); at least one
       * @return this builder
       * @throws IllegalArgumentException if none is given or a name is not a valid namespace name
       * @throws IllegalStateException if namespaces were already set
       */
      public Builder namespaces(String... namespaces) {
        once(this.namespaces, "namespaces");
        if (namespaces.length == 0) {
          throw new IllegalArgumentException(
              "namespaces must name at least one namespace; leave them out for cluster-wide access");
        }
        List<String> checked = Arrays.asList(namespaces.clone());
        checked.forEach(PolicyRules::namespace);
        this.namespaces = checked;
        return this;
      }

      /**
       * Sets the longest a grant from this binding may live; default {@link #DEFAULT_MAX_TTL}.
       *
       * @param maxTtl a positive duration
       * @return this builder
       * @throws IllegalArgumentException if it is not positive
       * @throws IllegalStateException if it was already set
       */
      public Builder maxTtl(Duration maxTtl) {
        once(this.maxTtl, "maxTtl");
        this.maxTtl = PolicyRules.maxTtl(maxTtl);
        return this;
      }

      /**
       * Builds the binding.
       *
       * @return the binding
       * @throws IllegalStateException if the role or the clusters are not set
       * @throws IllegalArgumentException if neither users nor groups are set
       */
      public Binding build() {
        if (role == null) {
          throw new IllegalStateException("role must be set");
        }
        if (clusters == null) {
          throw new IllegalStateException("clusters must be set; use clusters(\"*\") for every cluster");
        }
        return new Binding(
            users == null ? Set.of() : users,
            groups == null ? Set.of() : groups,
            role,
            clusters,
            namespaces == null ? List.of() : namespaces,
            maxTtl == null ? DEFAULT_MAX_TTL : maxTtl,
            eligibility);
      }

      private static void once(@Nullable Object current, String name) {
        if (current != null) {
          throw new IllegalStateException(name + " was already set to " + current);
        }
      }
    }
  }

  /**
   * Builds a {@link RulePolicyProvider}. Not thread-safe; {@link #build()} leaves it unchanged.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private final Map<String, List<String>> roles = new LinkedHashMap<>();
    private final List<Binding> bindings = new ArrayList<>();

    private Builder() {}

    /**
     * Defines a role.
     *
     * @param name the role name: 1-253 printable characters without spaces
     * @param clusterRoles the Kubernetes ClusterRoles the role consists of; at least one
     * @return this builder
     * @throws IllegalArgumentException if a name is invalid, no ClusterRole is given, or the role is already
     *     defined
     */
    public Builder role(String name, String... clusterRoles) {
      PolicyRules.roleName(name);
      if (roles.containsKey(name)) {
        throw new IllegalArgumentException("role '" + name + "' is already defined");
      }
      if (clusterRoles.length == 0) {
        throw new IllegalArgumentException("role '" + name + "' must name at least one ClusterRole");
      }
      Set<String> checked = new LinkedHashSet<>();
      for (String clusterRole : clusterRoles) {
        checked.add(PolicyRules.clusterRole(clusterRole));
      }
      roles.put(name, List.copyOf(checked));
      return this;
    }

    /**
     * Adds a binding; its role must be defined by the time {@link #build()} is called.
     *
     * @param binding the binding
     * @return this builder
     * @throws NullPointerException if {@code binding} is null
     */
    public Builder binding(Binding binding) {
      bindings.add(Objects.requireNonNull(binding, "binding"));
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the immutable policy
     * @throws IllegalArgumentException if a binding names a role that is not defined
     */
    public RulePolicyProvider build() {
      for (int i = 0; i < bindings.size(); i++) {
        Binding binding = bindings.get(i);
        if (!roles.containsKey(binding.role())) {
          throw new IllegalArgumentException(
              "binding #"
                  + (i + 1)
                  + " names role '"
                  + binding.role()
                  + "' which is not defined; defined roles: "
                  + roles.keySet());
        }
      }
      return new RulePolicyProvider(
          Collections.unmodifiableMap(new LinkedHashMap<>(roles)), List.copyOf(bindings));
    }
  }
}
