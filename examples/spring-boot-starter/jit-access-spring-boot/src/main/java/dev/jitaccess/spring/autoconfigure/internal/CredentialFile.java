package dev.jitaccess.spring.autoconfigure.internal;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent credential kept in a file: read once when created (so a missing file fails start-up), and again
 * each time the agent dials the relay, so that a rotated credential (a re-mounted Kubernetes Secret) is used
 * without a restart. When a later read fails, the last credential read is used and a WARN is logged, naming
 * the file but never its content.
 *
 * <p>Thread-safe.
 */
public final class CredentialFile implements Supplier<String> {
  private static final Logger log = LoggerFactory.getLogger(CredentialFile.class);

  private final Path file;
  private final String property;
  private volatile String last;

  /**
   * Reads the credential for the first time.
   *
   * @param file the file
   * @param property the property that named it, for messages
   * @throws IllegalArgumentException if the file cannot be read or is blank
   */
  public CredentialFile(Path file, String property) {
    this.file = Objects.requireNonNull(file, "file");
    this.property = Objects.requireNonNull(property, "property");
    this.last = TextFiles.read(file, property);
  }

  /**
   * The credential as the file holds it now, else the last one read.
   *
   * @return the credential, never blank
   */
  @Override
  public String get() {
    try {
      last = TextFiles.read(file, property);
    } catch (IllegalArgumentException e) {
      log.warn("Could not read the agent credential again ({}); using the one read before", e.getMessage());
    }
    return last;
  }
}
