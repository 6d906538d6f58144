package dev.jitaccess.core.internal;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** The checks every builder of this module runs on its input, with the same messages. Stateless. */
public final class BuilderChecks {

  private BuilderChecks() {}

  /**
   * Throws if a property that may be set once was already set.
   *
   * @throws IllegalStateException if {@code current} is not null
   */
  public static void once(@Nullable Object current, String name) {
    if (current != null) {
      throw new IllegalStateException(name + " was already set to " + current);
    }
  }

  /**
   * A non-blank string, stripped of surrounding white space.
   *
   * @throws NullPointerException if it is null
   * @throws IllegalArgumentException if it is blank
   */
  public static String nonBlank(String value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
    return value.strip();
  }

  /**
   * A token size cap within the supported range.
   *
   * @throws IllegalArgumentException if it is not between 1 and {@link JwtValidator#MAX_TOKEN_SIZE_LIMIT}
   */
  public static int maxTokenSize(int bytes) {
    if (bytes < 1 || bytes > JwtValidator.MAX_TOKEN_SIZE_LIMIT) {
      throw new IllegalArgumentException(
          "maxTokenSize must be between 1 and " + JwtValidator.MAX_TOKEN_SIZE_LIMIT + " bytes but was " + bytes);
    }
    return bytes;
  }

  /**
   * Throws if a required property is missing at {@code build()}.
   *
   * @throws IllegalStateException if {@code value} is null
   */
  public static <T> T required(@Nullable T value, String name, String hint) {
    if (value == null) {
      throw new IllegalStateException(name + " must be set before build(): " + hint);
    }
    return value;
  }
}
