package dev.jitaccess.spring.autoconfigure.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads small text files named by properties (an agent credential, a JWK set). Errors name the property and the
 * file, never the file's content.
 */
public final class TextFiles {
  /** Larger than any credential or JWK set; guards against pointing a property at the wrong file. */
  static final long MAX_SIZE = 1024 * 1024;

  private TextFiles() {}

  /**
   * Reads a UTF-8 text file, trimmed.
   *
   * @param file the file
   * @param property the property that named it, for messages
   * @return the trimmed content, not blank
   * @throws IllegalArgumentException if the file cannot be read, is larger than 1 MiB, or is blank
   */
  public static String read(Path file, String property) {
    String text;
    try {
      if (Files.size(file) > MAX_SIZE) {
        throw new IllegalArgumentException(
            property + ": " + file.toAbsolutePath() + " is larger than " + MAX_SIZE + " bytes");
      }
      text = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalArgumentException(property + ": cannot read " + file.toAbsolutePath(), e);
    }
    if (text.isEmpty()) {
      throw new IllegalArgumentException(property + ": " + file.toAbsolutePath() + " is empty");
    }
    return text;
  }
}
