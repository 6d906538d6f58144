package dev.jitaccess.core;

import dev.jitaccess.api.JitAccessException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A policy file could not be loaded: it is unreadable, not valid YAML, or not a valid policy.
 *
 * <p>The message has the form {@code <source>:<line>:<column>: <reason>} (or {@code <source>: <reason>} when
 * the problem is not tied to a position, such as an unreadable file), so that editors and CI logs can jump to
 * the offending line. Line and column are 1-based. Messages quote at most a short, escaped excerpt of a
 * rejected value.
 *
 * @since 0.1.0
 */
public final class PolicyFileException extends JitAccessException {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final int line;
  private final int column;
  private final String reason;

  /**
   * Creates an exception for a position in a policy file.
   *
   * @param source the file name or other description of the source; not null
   * @param line the 1-based line, or 0 when unknown
   * @param column the 1-based column, or 0 when unknown
   * @param reason what is wrong and how to fix it; not null
   * @param cause the underlying failure, or {@code null}
   * @throws NullPointerException if {@code source} or {@code reason} is null
   * @throws IllegalArgumentException if {@code line} or {@code column} is negative
   */
  public PolicyFileException(
      String source, int line, int column, String reason, @Nullable Throwable cause) {
    super(format(source, line, column, reason), cause);
    if (line < 0 || column < 0) {
      throw new IllegalArgumentException(
          "line and column must not be negative but were " + line + " and " + column);
    }
    this.source = source;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }

  private static String format(String source, int line, int column, String reason) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(reason, "reason");
    if (line <= 0) {
      return source + ": " + reason;
    }
    return source + ":" + line + (column > 0 ? ":" + column : "") + ": " + reason;
  }

  /**
   * The source the policy was read from, as given to the loader (for a file: its path).
   *
   * @return the source name; never null
   */
  public String source() {
    return source;
  }

  /**
   * The 1-based line of the problem.
   *
   * @return the line, or 0 when the problem is not tied to a line
   */
  public int line() {
    return line;
  }

  /**
   * The 1-based column of the problem.
   *
   * @return the column, or 0 when unknown
   */
  public int column() {
    return column;
  }

  /**
   * The reason alone, without source and position.
   *
   * @return the reason; never null
   */
  public String reason() {
    return reason;
  }
}
