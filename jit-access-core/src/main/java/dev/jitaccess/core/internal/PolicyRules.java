package dev.jitaccess.core.internal;

import dev.jitaccess.api.Permission;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The validation rules of rule policies, shared by the builder API and the YAML reader so that both reject
 * exactly the same input with the same message. Every method throws {@link IllegalArgumentException} with a
 * message that names the property, the rejected value and what would be accepted.
 */
public final class PolicyRules {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern CLUSTER_GLOB = Pattern.compile("[a-z0-9*?-]+");
  private static final Pattern SHORT_DURATION =
      Pattern.compile("(?:(\\d{1,5})d)?(?:(\\d{1,5})h)?(?:(\\d{1,5})m)?(?:(\\d{1,5})s)?");
  private static final int MAX_NAME_LENGTH = 1024;

  private PolicyRules() {}

  /** A role name: 1-253 printable characters without white space. */
  public static String roleName(String name) {
    Objects.requireNonNull(name, "role name");
    if (name.isEmpty() || name.length() > 253 || !name.chars().allMatch(c -> c > ' ' && c != 0x7f)) {
      throw new IllegalArgumentException(
          "role name must be 1-253 printable characters without spaces but was '" + printable(name) + "'");
    }
    return name;
  }

  /** A ClusterRole name, as {@link Permission} accepts it. */
  public static String clusterRole(String name) {
    Objects.requireNonNull(name, "clusterRole");
    Permission.clusterWide(name);
    return name;
  }

  /** A user id or group name, stripped the way {@code Subject} strips them. */
  public static String principal(String value, String what) {
    Objects.requireNonNull(value, what);
    String stripped = value.strip();
    if (stripped.isEmpty()
        || stripped.length() > MAX_NAME_LENGTH
        || stripped.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          what
              + " must be 1-"
              + MAX_NAME_LENGTH
              + " characters without control characters but was '"
              + printable(value)
              + "'");
    }
    return stripped;
  }

  /**
   * A cluster glob: {@code [a-z0-9-]} plus {@code *} (any run) and {@code ?} (one character). It must be able
   * to match at least one valid cluster id.
   */
  public static String clusterGlob(String glob) {
    Objects.requireNonNull(glob, "cluster");
    if (!CLUSTER_GLOB.matcher(glob).matches()) {
      throw new IllegalArgumentException(
          "cluster '"
              + printable(glob)
              + "' is not a valid cluster glob: use lower-case letters, digits and '-', with '*' for any run"
              + " of characters and '?' for one character");
    }
    long fixed = glob.chars().filter(c -> c != '*').count();
    if (glob.startsWith("-") || glob.endsWith("-") || fixed > 63) {
      throw new IllegalArgumentException(
          "cluster glob '"
              + glob
              + "' can never match a cluster id (1-63 characters, starting and ending with a letter or digit)");
    }
    return glob;
  }

  /**
   * A namespace: a concrete namespace name. Globs are refused because a RoleBinding needs a concrete
   * namespace; {@code "*"} gets its own hint (cluster-wide access is written by leaving namespaces out).
   */
  public static String namespace(String namespace) {
    Objects.requireNonNull(namespace, "namespace");
    if (namespace.equals("*")) {
      throw new IllegalArgumentException(
          "namespace '*' is not allowed: for cluster-wide access leave 'namespaces' out of the binding");
    }
    if (namespace.indexOf('*') >= 0 || namespace.indexOf('?') >= 0) {
      throw new IllegalArgumentException(
          "namespace '"
              + printable(namespace)
              + "' is a glob, but namespaces must be concrete names (globs are allowed only in clusters)");
    }
    if (!DNS_LABEL.matcher(namespace).matches()) {
      throw new IllegalArgumentException(
          "namespace '"
              + printable(namespace)
              + "' can never match a namespace: a namespace is 1-63 characters of [a-z0-9-], starting and"
              + " ending with a letter or digit");
    }
    return namespace;
  }

  /** A positive maximum TTL. */
  public static Duration maxTtl(Duration maxTtl) {
    Objects.requireNonNull(maxTtl, "maxTtl");
    if (maxTtl.isNegative() || maxTtl.isZero()) {
      throw new IllegalArgumentException("maxTtl must be positive but was " + maxTtl);
    }
    return maxTtl;
  }

  /**
   * Parses a duration written as ISO-8601 ({@code PT2H}, {@code PT1H30M}) or in the short form
   * {@code [<n>d][<n>h][<n>m][<n>s]} ({@code 2h}, {@code 30m}, {@code 1h30m}, {@code 90s}, {@code 1d}).
   */
  public static Duration parseDuration(String text) {
    Objects.requireNonNull(text, "duration");
    Duration parsed = null;
    if (text.startsWith("P") || text.startsWith("p")) {
      try {
        parsed = Duration.parse(text);
      } catch (DateTimeParseException e) {
        parsed = null;
      }
    } else if (!text.isEmpty()) {
      Matcher m = SHORT_DURATION.matcher(text);
      if (m.matches()) {
        parsed =
            Duration.ofDays(group(m, 1))
                .plusHours(group(m, 2))
                .plusMinutes(group(m, 3))
                .plusSeconds(group(m, 4));
      }
    }
    if (parsed == null || parsed.isNegative() || parsed.isZero()) {
      throw new IllegalArgumentException(
          "maxTtl must be a positive duration such as 2h, 30m, 1h30m or PT2H but was '" + printable(text) + "'");
    }
    return parsed;
  }

  private static long group(Matcher m, int group) {
    String value = m.group(group);
    return value == null ? 0 : Long.parseLong(value);
  }

  /** Shortens and escapes a rejected value so that it can go into a message. */
  public static String printable(String value) {
    StringBuilder out = new StringBuilder();
    int limit = Math.min(value.length(), 80);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      out.append(Character.isISOControl(c) ? '?' : c);
    }
    if (value.length() > limit) {
      out.append("...");
    }
    return out.toString();
  }
}
