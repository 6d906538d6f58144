package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.VIEW;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.IdentityProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The identity provider's side of SECURITY #30: a slow or hung provider (an OIDC key fetch, a session store) is
 * called once for the callers of one token, holds up no other token, and its waiters share its answer and may give
 * up. Every wait is bounded; none sleeps.
 */
final class AuthenticateStampedeTest {
  private static final int CALLERS = 100;
  private static final Duration BOUND = Duration.ofSeconds(5);

  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger hungCalls = new AtomicInteger();
  private final AtomicReference<Thread> evaluator = new AtomicReference<>();
  private final List<AuditEvent> audit = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Thread> poolThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final ExecutorService pool =
      Executors.newFixedThreadPool(
          CALLERS + 1,
          task -> {
            Thread t = new Thread(task);
            poolThreads.add(t);
            return t;
          });

  /** Accepts {@code user-N}; holds {@code hung} until released, then refuses it. */
  private final IdentityProvider provider =
      new IdentityProvider() {
        @Override
        public Subject authenticate(String token) {
          if (token.equals("hung")) {
            hungCalls.incrementAndGet();
            evaluator.compareAndSet(null, Thread.currentThread());
            try {
              if (!release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new AuthenticationException("interrupted");
            }
            throw new AuthenticationException("the session store refused it");
          }
          return Subject.of(token);
        }

        @Override
        public String id() {
          return "slow-store";
        }
      };

  private final JitAccess jit =
      JitAccess.builder().identityProvider(provider).policyProvider(r -> VIEW).auditSink(audit::add).build();

  @AfterEach
  void stop() throws InterruptedException {
    release.countDown();
    pool.shutdownNow();
    assertThat(pool.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aHungProviderCallHoldsUpNoOtherToken() throws Exception {
    Future<?> hung = pool.submit(() -> jit.authorize("hung", "prod"));
    awaitHungCall();

    List<Future<?>> others = new ArrayList<>();
    for (int i = 0; i < CALLERS; i++) {
      String token = "user-" + i;
      others.add(pool.submit(() -> jit.authorize(token, "prod")));
    }

    for (Future<?> other : others) {
      other.get(BOUND.toSeconds(), TimeUnit.SECONDS); // each one served while the hung call goes on
    }
    assertThat(hung.isDone()).isFalse();
  }

  @Test
  void theCallersOfOneTokenShareOneCallAndItsRefusal() throws Exception {
    List<Future<?>> callers = new ArrayList<>();
    for (int i = 0; i < CALLERS; i++) {
      callers.add(pool.submit(() -> jit.authorize("hung", "prod")));
    }
    awaitHungCall();
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (waitingForAnotherCall() < CALLERS - 1) {
      assertThat(System.nanoTime()).as("the other callers wait for the one call").isLessThan(deadline);
      Thread.yield();
    }
    release.countDown();

    for (Future<?> caller : callers) {
      assertThat(outcome(caller)).isInstanceOf(AuthenticationException.class);
    }
    assertThat(hungCalls).as("one provider call for all of them").hasValue(1);
    assertThat(jit.authorizeIfCached("hung", "prod")).isEmpty();
  }

  @Test
  void aCallerWaitingForAnotherOnesCallCanGiveUp() throws Exception {
    Future<?> first = pool.submit(() -> jit.authorize("hung", "prod"));
    awaitHungCall();
    AtomicReference<Thread> waiterThread = new AtomicReference<>();
    Future<?> waiter =
        pool.submit(
            () -> {
              waiterThread.set(Thread.currentThread());
              return jit.authorize("hung", "prod");
            });
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (waiterThread.get() == null || waiterThread.get().getState() != Thread.State.WAITING) {
      assertThat(System.nanoTime()).as("the second caller waits").isLessThan(deadline);
      Thread.yield();
    }

    waiterThread.get().interrupt();

    assertThat(outcome(waiter))
        .isInstanceOfSatisfying(
            AuthenticationException.class, e -> assertThat(e.getMessage()).contains("interrupted while waiting"));
    assertThat(first.isDone()).as("the provider call itself goes on").isFalse();
    assertThat(hungCalls).hasValue(1);
  }

  /** Pool threads parked in the single-flight wait (not blocked on a lock, not running the provider). */
  private long waitingForAnotherCall() {
    return poolThreads.stream()
        .filter(t -> t.getState() == Thread.State.WAITING)
        .filter(
            t -> {
              for (StackTraceElement frame : t.getStackTrace()) {
                if (frame.getClassName().endsWith(".SingleFlight")) {
                  return true;
                }
              }
              return false;
            })
        .count();
  }

  private void awaitHungCall() {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (evaluator.get() == null || evaluator.get().getState() != Thread.State.TIMED_WAITING) {
      assertThat(System.nanoTime()).as("the provider call started").isLessThan(deadline);
      Thread.yield();
    }
  }

  private static Throwable outcome(Future<?> future) throws Exception {
    try {
      future.get(BOUND.toSeconds(), TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }
}
