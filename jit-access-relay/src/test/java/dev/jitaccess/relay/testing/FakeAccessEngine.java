package dev.jitaccess.relay.testing;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.relay.internal.AccessEngine;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake engine: {@code alice-token} is granted as alice, {@code bob-token} is denied, anything else fails
 * authentication. Records audit events and the tokens it saw.
 */
public final class FakeAccessEngine implements AccessEngine {

  /** The signed grant the fake hands out (an opaque string). */
  public static final String SIGNED_GRANT = "signed-grant-for-alice";

  /** Audit events, in the order recorded. */
  public final List<AuditEvent> audit = new CopyOnWriteArrayList<>();

  /** Tokens passed to {@link #authorize}. */
  public final List<String> tokens = new CopyOnWriteArrayList<>();

  /** Calls with the token {@code hung-token} that were interrupted while they hung. */
  public final AtomicInteger interruptedCalls = new AtomicInteger();

  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-01-01T10:00:00Z"));
  private final CountDownLatch never = new CountDownLatch(1);

  @Override
  public Authorized authorize(String bearerToken, String cluster) {
    tokens.add(bearerToken);
    if (bearerToken.equals("hung-token")) { // a policy backend that never answers, until interrupted
      try {
        never.await();
      } catch (InterruptedException e) {
        interruptedCalls.incrementAndGet();
        Thread.currentThread().interrupt();
      }
      throw new AccessDeniedException("the policy lookup was interrupted");
    }
    if (bearerToken.equals("alice-token")) {
      Instant now = clock.instant();
      Grant grant =
          new Grant(
              "grant-1",
              Subject.of("alice"),
              cluster,
              List.of(Permission.clusterWide("view")),
              now,
              now.plus(Duration.ofMinutes(5)));
      return new Authorized(grant, SIGNED_GRANT);
    }
    if (bearerToken.equals("bob-token")) {
      throw new AccessDeniedException("bob may not use cluster " + cluster + " outside working hours");
    }
    throw new AuthenticationException("unknown token");
  }

  @Override
  public String verifyAgentCredential(String credential) {
    throw new AuthenticationException("not used by the user side");
  }

  @Override
  public void audit(AuditEvent event) {
    audit.add(event);
  }

  @Override
  public InstantSource clock() {
    return clock;
  }
}
