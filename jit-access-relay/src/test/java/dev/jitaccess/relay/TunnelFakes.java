package dev.jitaccess.relay;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.UpgradedConnection;
import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.api.spi.ClusterForwarder;
import dev.jitaccess.relay.internal.AccessEngine;
import dev.jitaccess.relay.internal.GrantCheck;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** Fakes of the seams and SPIs for the tunnel tests. */
final class TunnelFakes {
  private TunnelFakes() {}

  /** A clock that moves only when told to. */
  static final class MutableClock implements InstantSource {
    private volatile Instant now = Instant.parse("2025-06-01T10:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration duration) {
      now = now.plus(duration);
    }
  }

  /** Agent credentials {@code cred-<cluster>} verify to {@code <cluster>}; anything else is refused. */
  static class FakeEngine implements AccessEngine {
    final List<AuditEvent> audits = new CopyOnWriteArrayList<>();
    final MutableClock clock;

    FakeEngine(MutableClock clock) {
      this.clock = clock;
    }

    @Override
    public Authorized authorize(String bearerToken, String cluster) {
      throw new UnsupportedOperationException("not used by the tunnel side");
    }

    @Override
    public String verifyAgentCredential(String credential) {
      if (credential.startsWith("cred-")) {
        return credential.substring("cred-".length());
      }
      throw new AuthenticationException("unknown agent credential");
    }

    @Override
    public void audit(AuditEvent event) {
      audits.add(event);
    }

    @Override
    public InstantSource clock() {
      return clock;
    }
  }

  /** Signed grants are just names registered here. */
  static final class FakeGrantCheck implements GrantCheck {
    final Map<String, Grant> grants = new ConcurrentHashMap<>();
    /** What a real verifier would remember: grants verified before, when {@link #remembers} is on. */
    final Map<String, Grant> verified = new ConcurrentHashMap<>();
    final AtomicInteger verifyCalls = new AtomicInteger();
    final List<String> verifyThreads = new CopyOnWriteArrayList<>();
    volatile boolean remembers;

    @Override
    public Grant verify(String jws) {
      verifyCalls.incrementAndGet();
      verifyThreads.add(Thread.currentThread().getName());
      Grant grant = grants.get(jws);
      if (grant == null) {
        throw new AuthenticationException("bad signature");
      }
      if (remembers) {
        verified.put(jws, grant);
      }
      return grant;
    }

    @Override
    public @Nullable Grant verifyIfCached(String jws) {
      return verified.get(jws);
    }
  }

  static final class FakeProvisioner implements AccountProvisioner {
    final AtomicInteger ensureCalls = new AtomicInteger();
    final List<String> removed = new CopyOnWriteArrayList<>();
    final MutableClock clock;
    volatile Duration tokenLifetime = Duration.ofHours(1);

    FakeProvisioner(MutableClock clock) {
      this.clock = clock;
    }

    @Override
    public ProvisionedAccount ensure(Grant grant) {
      int n = ensureCalls.incrementAndGet();
      return new ProvisionedAccount(
          "jit-access", "jit-" + grant.subject().id(), "sa-token-" + n, clock.instant().plus(tokenLifetime));
    }

    @Override
    public void remove(String subjectId) {
      removed.add(subjectId);
    }
  }

  /** One forwarded call. */
  record Call(ForwardRequest request, String token, byte[] body) {}

  /** Records calls (reading the request body fully) and answers with the current responder. */
  static final class FakeForwarder implements ClusterForwarder {
    final List<Call> calls = new CopyOnWriteArrayList<>();
    volatile Function<ForwardRequest, ForwardResponse> responder =
        r -> new SimpleResponse(200, "hello from " + r.pathAndQuery());

    @Override
    public ForwardResponse forward(ForwardRequest request, String bearerToken) {
      byte[] body = new byte[0];
      if (request.body() != null && request.header("upgrade") == null) {
        try {
          body = request.body().readAllBytes();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      calls.add(new Call(request, bearerToken, body));
      return responder.apply(request);
    }
  }

  /** A response with a given body stream; remembers being closed. */
  static class SimpleResponse implements ForwardResponse {
    final int status;
    final InputStream body;
    final CountDownLatch closed = new CountDownLatch(1);
    final Optional<UpgradedConnection> upgraded;

    SimpleResponse(int status, String body) {
      this(status, new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), Optional.empty());
    }

    SimpleResponse(int status, InputStream body, Optional<UpgradedConnection> upgraded) {
      this.status = status;
      this.body = body;
      this.upgraded = upgraded;
    }

    @Override
    public int status() {
      return status;
    }

    @Override
    public Map<String, List<String>> headers() {
      return Map.of("content-type", List.of("text/plain"), "connection", List.of("keep-alive"));
    }

    @Override
    public InputStream body() {
      return body;
    }

    @Override
    public Optional<UpgradedConnection> upgraded() {
      return upgraded;
    }

    /** Closes the body and, as {@link ForwardResponse#close()} promises, the upgraded connection. */
    @Override
    public void close() {
      closed.countDown();
      upgraded.ifPresent(UpgradedConnection::close);
      try {
        body.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    boolean isClosed() {
      return closed.getCount() == 0;
    }
  }

  /** An endless body that blocks between chunks until closed, like a watch; counts what was read. */
  static final class EndlessBody extends InputStream {
    final AtomicLong bytesRead = new AtomicLong();
    private final boolean fast;
    private final CountDownLatch closed = new CountDownLatch(1);

    /** @param fast true: always data at once; false: one event, then blocks until closed */
    EndlessBody(boolean fast) {
      this.fast = fast;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0];
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (closed.getCount() == 0) {
        throw new IOException("closed");
      }
      if (!fast && bytesRead.get() > 0) {
        try {
          closed.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IOException("closed");
      }
      int n = fast ? len : Math.min(len, 6);
      for (int i = 0; i < n; i++) {
        b[off + i] = (byte) "event\n".charAt(i % 6);
      }
      bytesRead.addAndGet(n);
      return n;
    }

    @Override
    public void close() {
      closed.countDown();
    }
  }

  static byte[] bytes(ByteArrayOutputStream out) {
    return out.toByteArray();
  }

  /** kube-apiserver's side of an upgraded exec connection: echoes what it is sent until it is closed. */
  static final class EchoServer implements UpgradedConnection {
    private final PipedInputStream fromServer = new PipedInputStream();
    private final PipedOutputStream serverOut;
    private final PipedInputStream serverIn = new PipedInputStream();
    private final PipedOutputStream toServer;
    private final AtomicBoolean closed = new AtomicBoolean();

    EchoServer() throws IOException {
      serverOut = new PipedOutputStream(fromServer);
      toServer = new PipedOutputStream(serverIn);
      Thread echo = new Thread(this::echo, "echo-server");
      echo.setDaemon(true);
      echo.start();
    }

    private void echo() {
      try {
        byte[] buffer = new byte[64];
        int n;
        while ((n = serverIn.read(buffer)) != -1) {
          serverOut.write(buffer, 0, n);
          serverOut.flush();
        }
      } catch (IOException e) {
        // closed
      }
    }

    boolean isClosed() {
      return closed.get();
    }

    @Override
    public String protocol() {
      return "v5.channel.k8s.io";
    }

    @Override
    public InputStream fromServer() {
      return fromServer;
    }

    @Override
    public OutputStream toServer() {
      return toServer;
    }

    @Override
    public void close() {
      closed.set(true);
      try {
        fromServer.close();
        toServer.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
