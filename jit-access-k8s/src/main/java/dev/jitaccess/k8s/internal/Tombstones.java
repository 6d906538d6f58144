package dev.jitaccess.k8s.internal;

import java.time.DateTimeException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The data of the revocation ConfigMap: one key per subject ({@link Names#subjectHash}), whose value is
 * {@code revokedAt|keepUntil|rawSubjectId} with ISO-8601 instants. The raw id comes last, so a {@code |} in it
 * needs no escaping. Stateless and thread-safe.
 */
public final class Tombstones {
  private static final char SEPARATOR = '|';

  /** One parsed entry. */
  public record Entry(String subjectId, Instant revokedAt, Instant keepUntil) {

    /** The later revocation and the later keep-until of the two. */
    Entry merge(Entry other) {
      return new Entry(
          subjectId,
          revokedAt.isAfter(other.revokedAt) ? revokedAt : other.revokedAt,
          keepUntil.isAfter(other.keepUntil) ? keepUntil : other.keepUntil);
    }

    String encode() {
      return revokedAt.toString() + SEPARATOR + keepUntil + SEPARATOR + subjectId;
    }
  }

  private Tombstones() {}

  /**
   * Parses one entry; empty if the value is malformed or does not belong to its key (damage or tampering).
   *
   * @param key the data key
   * @param value the data value, or null
   * @return the entry
   */
  public static Optional<Entry> parse(String key, @Nullable String value) {
    if (value == null) {
      return Optional.empty();
    }
    int first = value.indexOf(SEPARATOR);
    int second = first < 0 ? -1 : value.indexOf(SEPARATOR, first + 1);
    if (second < 0 || second == value.length() - 1) {
      return Optional.empty();
    }
    try {
      Entry entry =
          new Entry(
              value.substring(second + 1),
              Instant.parse(value.substring(0, first)),
              Instant.parse(value.substring(first + 1, second)));
      return Names.subjectHash(entry.subjectId()).equals(key) ? Optional.of(entry) : Optional.empty();
    } catch (DateTimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The data after recording one revocation: the subject's entry merged (later times win) and every entry
   * whose keep-until is before {@code now} removed. Entries that cannot be parsed are kept as they are: they
   * are not ours to interpret.
   *
   * @param data the current data, or null for none
   * @param entry the revocation to record
   * @param now the current time
   * @return the new data, sorted by key
   */
  public static Map<String, String> record(@Nullable Map<String, String> data, Entry entry, Instant now) {
    Map<String, String> next = new TreeMap<>();
    if (data != null) {
      for (Map.Entry<String, String> e : data.entrySet()) {
        Optional<Entry> parsed = parse(e.getKey(), e.getValue());
        if (parsed.isEmpty() || !parsed.get().keepUntil().isBefore(now)) {
          next.put(e.getKey(), e.getValue());
        }
      }
    }
    String key = Names.subjectHash(entry.subjectId());
    Entry merged = parse(key, next.get(key)).map(entry::merge).orElse(entry);
    next.put(key, merged.encode());
    return next;
  }

  /**
   * The revocation time per subject of every well-formed entry still to be kept.
   *
   * @param data the ConfigMap data, or null
   * @param now the current time
   * @return subject id to revocation time
   */
  public static Map<String, Instant> live(@Nullable Map<String, String> data, Instant now) {
    Map<String, Instant> out = new HashMap<>();
    if (data != null) {
      for (Map.Entry<String, String> e : data.entrySet()) {
        parse(e.getKey(), e.getValue())
            .filter(entry -> !entry.keepUntil().isBefore(now))
            .ifPresent(entry -> out.merge(entry.subjectId(), entry.revokedAt(), Tombstones::later));
      }
    }
    return Map.copyOf(out);
  }

  /**
   * How many entries cannot be parsed (for a warning).
   *
   * @param data the ConfigMap data, or null
   * @return the count
   */
  public static int malformed(@Nullable Map<String, String> data) {
    if (data == null) {
      return 0;
    }
    return (int) data.entrySet().stream().filter(e -> parse(e.getKey(), e.getValue()).isEmpty()).count();
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }
}
