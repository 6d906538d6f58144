package dev.jitaccess.core;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.AuditSink;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.api.spi.PolicyProvider;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/** Hand-written fakes shared by the engine tests. */
final class Fixtures {
  static final Instant START = Instant.parse("2026-01-01T10:00:00Z");
  static final String ALICE_TOKEN = "opaque-token-alice-0123456789";
  static final String BOB_TOKEN = "opaque-token-bob-9876543210";
  static final Subject ALICE = Subject.of("alice", "dev");
  static final Subject BOB = Subject.of("bob", "ops");
  static final Decision.Granted VIEW = Decision.granted(Duration.ofHours(1), Permission.clusterWide("view"));
  static final Decision.Granted EDIT = Decision.granted(Duration.ofHours(1), Permission.clusterWide("edit"));

  private Fixtures() {}

  /** Accepts known tokens; counts every call. */
  static final class Tokens implements IdentityProvider {
    final Map<String, Subject> known = new ConcurrentHashMap<>();
    final AtomicInteger calls = new AtomicInteger();

    Tokens() {
      known.put(ALICE_TOKEN, ALICE);
      known.put(BOB_TOKEN, BOB);
    }

    @Override
    public Subject authenticate(String bearerToken) {
      calls.incrementAndGet();
      Subject s = known.get(bearerToken);
      if (s == null) {
        throw new AuthenticationException("unknown token");
      }
      return s;
    }

    @Override
    public String id() {
      return "test-tokens";
    }
  }

  /** Answers with a replaceable function; counts every evaluation. */
  static final class Policy implements PolicyProvider {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicReference<Function<AccessRequest, Decision>> answer = new AtomicReference<>(r -> VIEW);

    Policy answering(Decision decision) {
      answer.set(r -> decision);
      return this;
    }

    @Override
    public Decision evaluate(AccessRequest request) {
      calls.incrementAndGet();
      return answer.get().apply(request);
    }

    @Override
    public String id() {
      return "test-policy";
    }
  }

  /** Keeps every event. */
  static final class RecordingSink implements AuditSink {
    final List<AuditEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void record(AuditEvent event) {
      events.add(event);
    }

    List<AuditEvent> ofType(AuditEvent.Type type) {
      return events.stream().filter(e -> e.type() == type).toList();
    }

    @Override
    public String id() {
      return "recording";
    }
  }

  /** Always throws. */
  static final class BrokenSink implements AuditSink {
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public void record(AuditEvent event) {
      calls.incrementAndGet();
      throw new IllegalStateException("disk full");
    }

    @Override
    public String id() {
      return "broken";
    }
  }

  /** An engine on a fake clock with the fakes above, before build. */
  static JitAccess.Builder engine(MutableInstantSource clock, Tokens tokens, Policy policy, AuditSink sink) {
    return JitAccess.builder().clock(clock).identityProvider(tokens).policyProvider(policy).auditSink(sink);
  }
}
