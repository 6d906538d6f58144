package dev.jitaccess.core.internal;

import dev.jitaccess.api.Subject;
import java.util.Set;

/**
 * The grant cache key: who (id and groups, since group membership drives most policies) and where. Subject
 * attributes are not part of the key.
 */
public record GrantKey(String subjectId, Set<String> groups, String cluster) {
  /** The key for a subject on a cluster. */
  public static GrantKey of(Subject subject, String cluster) {
    return new GrantKey(subject.id(), subject.groups(), cluster);
  }
}
