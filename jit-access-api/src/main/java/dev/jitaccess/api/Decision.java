package dev.jitaccess.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of a policy evaluation: {@link Granted} or {@link Denied}.
 *
 * <p>A denial is an ordinary value, not an exception: {@code if (decision instanceof Decision.Denied d)}.
 * Instances are immutable and thread-safe.
 *
 * @since 0.1.0
 */
public sealed interface Decision permits Decision.Granted, Decision.Denied {

  /**
   * Creates a grant of the permissions for at most {@code maxTtl}.
   *
   * @param maxTtl the longest time the permissions may be used before the policy is asked again
   * @param permissions the permissions; at least one
   * @return the decision
   */
  static Granted granted(Duration maxTtl, Permission... permissions) {
    return new Granted(List.of(permissions), maxTtl);
  }

  /**
   * Creates a denial.
   *
   * @param reason why, in words a user can act on
   * @return the decision
   */
  static Denied denied(String reason) {
    return new Denied(reason);
  }

  /**
   * Access is allowed with these permissions, for at most {@code maxTtl}.
   *
   * @param permissions the permissions granted; non-empty, copied, duplicates removed, order kept
   * @param maxTtl the longest the grant may live; positive
   */
  record Granted(List<Permission> permissions, Duration maxTtl) implements Decision {
    /**
     * Validates the components.
     *
     * @throws NullPointerException if a component or a permission is null
     * @throws IllegalArgumentException if there is no permission or {@code maxTtl} is not positive
     */
    public Granted {
      permissions = List.copyOf(new java.util.LinkedHashSet<>(List.copyOf(permissions)));
      if (permissions.isEmpty()) {
        throw new IllegalArgumentException(
            "permissions must not be empty: a policy that allows nothing should return Decision.denied(reason)");
      }
      Checks.positive(maxTtl, "maxTtl");
    }
  }

  /**
   * Access is refused.
   *
   * @param reason why; non-blank, shown to the user
   */
  record Denied(String reason) implements Decision {
    /**
     * Validates the reason.
     *
     * @throws NullPointerException if {@code reason} is null
     * @throws IllegalArgumentException if it is blank
     */
    public Denied {
      Objects.requireNonNull(reason, "reason");
      if (reason.isBlank()) {
        throw new IllegalArgumentException("reason must not be blank");
      }
    }
  }
}
