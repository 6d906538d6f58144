package dev.jitaccess.relay.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.spi.AccountProvisioner;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import org.jspecify.annotations.Nullable;

/**
 * The agent's accounts per grant id: {@link AccountProvisioner#ensure} runs once per grant (concurrent first
 * requests wait for the one call) and again when the token is within {@link #REFRESH_MARGIN} of its expiry.
 *
 * <p>Thread-safe. Calls block while provisioning: never use it on an event loop.
 */
final class AgentAccounts {
  /** A token this close to its expiry is replaced before use. */
  static final Duration REFRESH_MARGIN = Duration.ofSeconds(60);

  private record Entry(String subjectId, ProvisionedAccount account) {}

  private final AccountProvisioner provisioner;
  private final Cache<String, Entry> cache;

  AgentAccounts(AccountProvisioner provisioner, InstantSource clock) {
    this.provisioner = provisioner;
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(10_000)
            .ticker(() -> ChronoUnit.NANOS.between(Instant.EPOCH, clock.instant()))
            .expireAfter(
                Expiry.<String, Entry>creating(
                    (grantId, entry) -> {
                      Duration left =
                          Duration.between(clock.instant(), entry.account().tokenExpiresAt())
                              .minus(REFRESH_MARGIN);
                      return left.isNegative() ? Duration.ZERO : left;
                    }))
            .build();
  }

  /**
   * The account for a verified grant.
   *
   * @param grant the grant
   * @return the account with a token valid for at least a while yet
   * @throws dev.jitaccess.api.ProvisioningException if provisioning failed (nothing is cached)
   */
  ProvisionedAccount ensure(Grant grant) {
    return cache
        .get(grant.id(), id -> new Entry(grant.subject().id(), provisioner.ensure(grant)))
        .account();
  }

  /**
   * The account for a verified grant if it is cached and its token is not due for refresh; never blocks.
   *
   * @param grant the grant
   * @return the account, or null when {@link #ensure} must provision
   */
  @Nullable ProvisionedAccount ensureIfCached(Grant grant) {
    Entry entry = cache.getIfPresent(grant.id());
    return entry == null ? null : entry.account();
  }

  /**
   * Forgets every cached account of a subject and removes it from the cluster.
   *
   * @param subjectId the subject
   * @throws dev.jitaccess.api.ProvisioningException if the cluster refused the removal
   */
  void remove(String subjectId) {
    cache.asMap().values().removeIf(entry -> entry.subjectId().equals(subjectId));
    provisioner.remove(subjectId);
  }
}
