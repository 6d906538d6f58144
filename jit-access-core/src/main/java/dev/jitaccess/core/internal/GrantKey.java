package dev.jitaccess.core.internal;

import dev.jitaccess.api.Subject;
import java.util.Objects;
import java.util.Set;

/**
 * The grant cache key: who (id and groups, since group membership drives most policies) and where. Subject
 * attributes are not part of the key. Equal when subject id, groups and cluster are equal.
 *
 * <p>A final class rather than a record so that the hash, which walks the groups, is computed once per key
 * instead of on every cache lookup. Immutable and thread-safe.
 */
public final class GrantKey {
  private final String subjectId;
  private final Set<String> groups;
  private final String cluster;
  private final int hash;

  /** A key; {@code groups} must be an immutable set (a {@link Subject}'s groups are). */
  public GrantKey(String subjectId, Set<String> groups, String cluster) {
    this.subjectId = Objects.requireNonNull(subjectId, "subjectId");
    this.groups = Objects.requireNonNull(groups, "groups");
    this.cluster = Objects.requireNonNull(cluster, "cluster");
    this.hash = (subjectId.hashCode() * 31 + groups.hashCode()) * 31 + cluster.hashCode();
  }

  /** The key for a subject on a cluster. */
  public static GrantKey of(Subject subject, String cluster) {
    return new GrantKey(subject.id(), subject.groups(), cluster);
  }

  /** The subject id. */
  public String subjectId() {
    return subjectId;
  }

  /** The subject's groups. */
  public Set<String> groups() {
    return groups;
  }

  /** The cluster id. */
  public String cluster() {
    return cluster;
  }

  @Override
  public boolean equals(Object other) {
    return this == other
        || (other instanceof GrantKey k
            && hash == k.hash
            && subjectId.equals(k.subjectId)
            && cluster.equals(k.cluster)
            && (groups == k.groups || groups.equals(k.groups)));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "GrantKey[subjectId=" + subjectId + ", groups=" + groups + ", cluster=" + cluster + "]";
  }
}
