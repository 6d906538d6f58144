package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisioningException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Every name and label value jit-access generates in a cluster, in one place.
 *
 * <p>Subject ids are arbitrary strings ({@code Alice@Example.COM}, {@code ../admin}, 300 characters), so
 * they never appear in a name: the ServiceAccount is {@code jit-} + the first 32 characters (160 bits) of the
 * lowercase base32 SHA-256 of the UTF-8 id. The raw id only goes into an annotation. Binding names add a
 * 16-character (80-bit) hash of the role and scope. Every result is checked against the DNS-label rule
 * before it is used. Thread-safe and stateless.
 */
public final class Names {
  /** Label on every object jit-access creates. */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  /** Value of {@link #MANAGED_BY_LABEL}. */
  public static final String MANAGED_BY_VALUE = "jit-access";

  /** Label selector for everything jit-access manages. */
  public static final String MANAGED_SELECTOR = MANAGED_BY_LABEL + "=" + MANAGED_BY_VALUE;

  /** Label carrying the subject hash (links bindings to their ServiceAccount). */
  public static final String SUBJECT_HASH_LABEL = "jitaccess.dev/subject-hash";

  /** Annotation with the raw subject id. */
  public static final String SUBJECT_ANNOTATION = "jitaccess.dev/subject";

  /** Annotation with the id of the grant last applied. */
  public static final String GRANT_ID_ANNOTATION = "jitaccess.dev/grant-id";

  /** Annotation with the ISO instant after which the sweeper deletes the account. */
  public static final String EXPIRES_AT_ANNOTATION = "jitaccess.dev/expires-at";

  /** Annotation on a binding naming its ServiceAccount ({@code namespace/name}). */
  public static final String SERVICE_ACCOUNT_ANNOTATION = "jitaccess.dev/service-account";

  /** Prefix of every generated name. */
  public static final String PREFIX = "jit-";

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final int MAX_LENGTH = 63;
  private static final int SUBJECT_HASH_CHARS = 32;
  private static final int BINDING_HASH_CHARS = 16;
  private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

  private Names() {}

  /**
   * The hash that identifies a subject in names and labels.
   *
   * @param subjectId the raw subject id
   * @return 32 characters of {@code [a-z2-7]}
   */
  public static String subjectHash(String subjectId) {
    return base32(sha256(subjectId)).substring(0, SUBJECT_HASH_CHARS);
  }

  /**
   * The ServiceAccount name for a subject hash.
   *
   * @param subjectHash a value from {@link #subjectHash(String)}
   * @return {@code jit-<hash>}, validated
   */
  public static String serviceAccount(String subjectHash) {
    return checked(PREFIX + subjectHash);
  }

  /**
   * The ServiceAccount name that owns objects labelled with the given subject hash, if the label is a
   * well-formed hash.
   *
   * @param subjectHash a label value, possibly tampered with, or null
   * @return the name, or null if the value cannot be a subject hash
   */
  public static @Nullable String serviceAccountOrNull(@Nullable String subjectHash) {
    if (subjectHash == null
        || subjectHash.length() != SUBJECT_HASH_CHARS
        || !subjectHash.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) {
      return null;
    }
    return PREFIX + subjectHash;
  }

  /**
   * The binding name for one permission of one subject: deterministic, distinct per role and scope.
   *
   * @param subjectHash a value from {@link #subjectHash(String)}
   * @param permission the permission the binding grants
   * @return {@code jit-<hash>-<role hash>}, validated
   */
  public static String binding(String subjectHash, Permission permission) {
    // A newline cannot occur in a role or namespace name, so the encoding is unambiguous.
    String scope =
        permission.clusterRole()
            + "\n"
            + (permission.isClusterWide() ? "cluster" : "namespace:" + permission.namespace());
    String roleHash = base32(sha256(scope)).substring(0, BINDING_HASH_CHARS);
    return checked(PREFIX + subjectHash + "-" + roleHash);
  }

  /**
   * Whether a value is a valid DNS label (namespace, ServiceAccount or binding name, label value).
   *
   * @param value the value
   * @return true if it is 1-63 characters of {@code [a-z0-9-]} starting and ending alphanumeric
   */
  public static boolean isDnsLabel(String value) {
    return value.length() <= MAX_LENGTH && DNS_LABEL.matcher(value).matches();
  }

  private static String checked(String name) {
    if (!isDnsLabel(name)) {
      // Cannot happen with the constant prefix and a base32 hash; checked anyway before any call.
      throw new ProvisioningException(
          "generated name '" + name + "' is not a valid Kubernetes name", 0, false, null);
    }
    return name;
  }

  private static byte[] sha256(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** RFC 4648 base32, lowercase, without padding. */
  static String base32(byte[] bytes) {
    StringBuilder out = new StringBuilder((bytes.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : bytes) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        out.append(BASE32[(buffer >>> (bits - 5)) & 31]);
        bits -= 5;
      }
    }
    if (bits > 0) {
      out.append(BASE32[(buffer << (5 - bits)) & 31]);
    }
    return out.toString();
  }
}
