package dev.jitaccess.api;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * An authenticated person or workload: who is asking for access.
 *
 * <p>The id is the stable identifier that the {@link dev.jitaccess.api.spi.IdentityProvider} established (an
 * OIDC {@code sub} or user name, an e-mail address). It is stripped of surrounding white space and must be
 * non-blank, at most 1024 characters and free of control characters. Groups are non-blank strings; attributes
 * carry any further claims a policy may want. Both are copied and unmodifiable.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param id the subject's stable id; never blank
 * @param groups the groups the subject belongs to; possibly empty
 * @param attributes further identity attributes; possibly empty
 * @since 0.1.0
 */
public record Subject(String id, Set<String> groups, Map<String, String> attributes) {

  /**
   * Validates and copies the components.
   *
   * @throws NullPointerException if a component, a group, or an attribute key or value is null
   * @throws IllegalArgumentException if the id or a group is blank, too long or contains control characters
   */
  public Subject {
    id = Checks.id(id, "id");
    Objects.requireNonNull(groups, "groups");
    Set<String> checked = new TreeSet<>();
    for (String group : groups) {
      checked.add(Checks.id(group, "group"));
    }
    groups = Set.copyOf(checked);
    attributes = Map.copyOf(Objects.requireNonNull(attributes, "attributes"));
  }

  /**
   * Creates a subject with the given groups and no attributes.
   *
   * @param id the subject's stable id
   * @param groups the groups the subject belongs to
   * @return the subject
   * @throws IllegalArgumentException if the id or a group is invalid
   */
  public static Subject of(String id, String... groups) {
    return new Subject(id, Set.of(groups), Map.of());
  }

  /**
   * Whether this subject belongs to the group.
   *
   * @param group a group name
   * @return true when {@link #groups()} contains it
   */
  public boolean isMemberOf(String group) {
    return groups.contains(group);
  }
}
