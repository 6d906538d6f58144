package dev.jitaccess.api;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/** Validation shared by the records of this package. Not part of the API. */
final class Checks {
  /** A cluster id: 1 to 63 characters of {@code [a-z0-9-]}, starting and ending with a letter or digit. */
  static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** The longest subject id accepted, in characters. */
  static final int MAX_ID_LENGTH = 1024;

  private Checks() {}

  static String id(String value, String name) {
    Objects.requireNonNull(value, name);
    String trimmed = value.strip();
    if (trimmed.isEmpty()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
    if (trimmed.length() > MAX_ID_LENGTH) {
      throw new IllegalArgumentException(
          name + " must be at most " + MAX_ID_LENGTH + " characters but was " + trimmed.length());
    }
    for (int i = 0; i < trimmed.length(); i++) {
      if (Character.isISOControl(trimmed.charAt(i))) {
        throw new IllegalArgumentException(name + " must not contain control characters");
      }
    }
    return trimmed;
  }

  static String dnsLabel(String value, String name) {
    Objects.requireNonNull(value, name);
    if (!isDnsLabel(value)) {
      throw new IllegalArgumentException(
          name
              + " must be 1-63 characters of [a-z0-9-], starting and ending with a letter or digit, but was '"
              + printable(value)
              + "'");
    }
    return value;
  }

  /** Same as {@link #DNS_LABEL} without a regex: this runs on every relayed request. */
  static boolean isDnsLabel(String value) {
    int n = value.length();
    if (n == 0 || n > 63 || value.charAt(0) == '-' || value.charAt(n - 1) == '-') {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    return true;
  }

  static Duration positive(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive but was " + value);
    }
    return value;
  }

  /** Shortens and escapes a rejected value so that it can go into an exception message. */
  static String printable(String value) {
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
