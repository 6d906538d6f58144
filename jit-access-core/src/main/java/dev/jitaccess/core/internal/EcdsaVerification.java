package dev.jitaccess.core.internal;

import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.Signature;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which JCA provider checks ES256 signatures. The JDK's own {@code SunEC} takes about 0.8 ms for one P-256
 * verification on Java 17 (0.4 ms on Java 25); Bouncy Castle takes about 0.16 ms on both (see
 * docs/benchmarks.md). A first request through the relay verifies at least one ES256 grant, so when Bouncy
 * Castle's provider is on the class path (every agent has it: client-java depends on it), it checks ES256
 * signatures instead.
 *
 * <p>Only verification moves: it handles public data, so the timing of Bouncy Castle's arithmetic reveals
 * nothing secret. Signing keeps the JDK's provider. Bouncy Castle is used only where the JDK's stock {@code
 * SunEC} would have answered: when the operator configured another provider first (a FIPS module, a PKCS#11
 * token), that one stays. The provider is a private instance, never registered with {@link
 * java.security.Security}. Setting the system property {@value #PROPERTY} to {@code false} keeps {@code
 * SunEC}.
 */
public final class EcdsaVerification {
  private static final Logger log = LoggerFactory.getLogger(EcdsaVerification.class);

  /** The system property that, set to {@code false}, keeps the JDK's provider. */
  public static final String PROPERTY = "jitaccess.crypto.bouncycastle";

  private static final String BOUNCY_CASTLE = "org.bouncycastle.jce.provider.BouncyCastleProvider";

  private static final @Nullable Provider PROVIDER =
      choose(System.getProperty(PROPERTY, ""), standardProviderName());

  private EcdsaVerification() {}

  /**
   * The provider to verify ES256 signatures with, or null for the JDK's default. Chosen once per JVM.
   *
   * @return Bouncy Castle's provider when it may be used, else null
   */
  public static @Nullable Provider provider() {
    return PROVIDER;
  }

  private static @Nullable String standardProviderName() {
    try {
      return Signature.getInstance("SHA256withECDSA").getProvider().getName();
    } catch (GeneralSecurityException e) {
      return null;
    }
  }

  /**
   * The choice, given the system property's value and the name of the provider the JVM would use.
   *
   * @param setting the value of {@value #PROPERTY} ({@code false} keeps the JDK's provider)
   * @param standard the name of the JVM's preferred SHA256withECDSA provider, null when it has none
   */
  static @Nullable Provider choose(String setting, @Nullable String standard) {
    if ("false".equalsIgnoreCase(setting.strip())) {
      return null;
    }
    if (!"SunEC".equals(standard)) {
      log.debug("ES256 signatures are checked by {}, the provider this JVM prefers", standard);
      return null;
    }
    try {
      Provider provider =
          (Provider) Class.forName(BOUNCY_CASTLE).getConstructor().newInstance();
      Signature.getInstance("SHA256withECDSA", provider); // fails here, not on the first token
      log.debug("ES256 signatures are checked by Bouncy Castle {}", provider.getVersionStr());
      return provider;
    } catch (ReflectiveOperationException | LinkageError | GeneralSecurityException | RuntimeException e) {
      return null; // not on the class path, or unusable: the JDK's provider checks them
    }
  }
}
