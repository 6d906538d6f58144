package dev.jitaccess.core.internal;

import java.util.Objects;

/**
 * A cluster glob: {@code *} matches any run of characters (also none), {@code ?} exactly one, everything else
 * itself. Matching is the classic greedy algorithm with one backtrack point, linear in practice and never
 * exponential (unlike a naive regular expression). Immutable and thread-safe.
 */
public final class Glob {
  private final String pattern;

  private Glob(String pattern) {
    this.pattern = pattern;
  }

  /**
   * Compiles a glob after checking it with {@link PolicyRules#clusterGlob(String)}.
   *
   * @throws IllegalArgumentException if it is not a valid cluster glob
   */
  public static Glob of(String pattern) {
    return new Glob(PolicyRules.clusterGlob(pattern));
  }

  /** Whether the whole of {@code value} matches. */
  public boolean matches(String value) {
    Objects.requireNonNull(value, "value");
    int p = 0;
    int v = 0;
    int star = -1;
    int resume = 0;
    while (v < value.length()) {
      if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == value.charAt(v))) {
        p++;
        v++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        resume = v;
      } else if (star >= 0) {
        p = star + 1;
        v = ++resume;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }

  @Override
  public String toString() {
    return pattern;
  }
}
