package dev.jitaccess.k8s;

import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import io.kubernetes.client.openapi.ApiClient;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.EventExecutor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link KubernetesForwarder#forwardAsync} called on a Netty event loop (as the relay agent does): the HTTP/2
 * connection lives on that loop, so the head and the body come back there without a thread hand-off.
 */
final class KubernetesForwarderEventLoopTest {
  private static final String EVENT = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\"}}\n";

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private H2TlsStub stub(H2TlsStub.Responder responder) throws Exception {
    H2TlsStub stub = H2TlsStub.start(responder);
    closeables.add(stub);
    return stub;
  }

  private KubernetesForwarder forwarder(ApiClient apiClient, boolean useCallerEventLoop) {
    KubernetesForwarder forwarder =
        KubernetesForwarder.builder().apiClient(apiClient).useCallerEventLoop(useCallerEventLoop).build();
    closeables.add(forwarder);
    return forwarder;
  }

  /** A caller's event loop group, like the relay agent's; shut down after the test. */
  private EventLoopGroup callerGroup(int threads, IoHandlerFactory transport) {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, transport);
    closeables.add(() -> group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly());
    return group;
  }

  private static EventLoop loopOf(EventLoopGroup group, int index) {
    List<EventLoop> loops = new ArrayList<>();
    for (EventExecutor e : group) {
      loops.add((EventLoop) e);
    }
    return loops.get(index);
  }

  private static Thread threadOf(EventLoop loop) throws Exception {
    return loop.submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
  }

  private static ForwardRequest get(String target) {
    return ForwardRequest.of("GET", target, Fixtures.headers("Accept", "application/json"));
  }

  private static void list(H2TlsStub.Stream s, Http2Headers request) {
    s.head(200, "content-type", "application/json");
    s.data("{\"kind\":", false);
    s.data("\"PodList\"}", true);
  }

  private static void watch(H2TlsStub.Stream s, Http2Headers request) {
    s.head(200, "content-type", "application/json");
    s.data(EVENT, false);
  }

  /** A request sent with forwardAsync from {@code loop}, and the thread that completed its head future. */
  private record Sent(CompletableFuture<ForwardResponse> head, CompletableFuture<Thread> headThread) {
    ForwardResponse response() throws Exception {
      return head.get(20, TimeUnit.SECONDS);
    }
  }

  private static Sent sendOn(EventLoop loop, KubernetesForwarder forwarder, String target) throws Exception {
    CompletableFuture<Thread> headThread = new CompletableFuture<>();
    CompletableFuture<ForwardResponse> head =
        loop.submit(
                () -> {
                  CompletableFuture<ForwardResponse> h = forwarder.forwardAsync(get(target), SA_TOKEN);
                  h.whenComplete((r, e) -> headThread.complete(Thread.currentThread()));
                  return h;
                })
            .get(10, TimeUnit.SECONDS);
    return new Sent(head, headThread);
  }

  /** Records the thread of every signal. */
  private static final class ThreadRecorder implements Flow.Subscriber<ByteBuffer> {
    final Set<Thread> nextThreads = ConcurrentHashMap.newKeySet();
    final CompletableFuture<Thread> subscribeThread = new CompletableFuture<>();
    final CompletableFuture<Thread> terminalThread = new CompletableFuture<>();
    final CompletableFuture<String> first = new CompletableFuture<>();
    final CompletableFuture<String> done = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      subscribeThread.complete(Thread.currentThread());
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public synchronized void onNext(ByteBuffer item) {
      nextThreads.add(Thread.currentThread());
      byte[] chunk = new byte[item.remaining()];
      item.get(chunk);
      bytes.write(chunk, 0, chunk.length);
      first.complete(new String(chunk, StandardCharsets.UTF_8));
    }

    @Override
    public void onError(Throwable throwable) {
      terminalThread.complete(Thread.currentThread());
      done.completeExceptionally(throwable);
    }

    @Override
    public synchronized void onComplete() {
      terminalThread.complete(Thread.currentThread());
      done.complete(bytes.toString(StandardCharsets.UTF_8));
    }
  }

  private static ThreadRecorder subscribe(ForwardResponse response) {
    ThreadRecorder body = new ThreadRecorder();
    response.bodyPublisher().orElseThrow().subscribe(body);
    return body;
  }

  private void headAndBodyArriveOnTheCallersLoop(IoHandlerFactory transport) throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::list);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), true);
    EventLoop loop = callerGroup(1, transport).next();
    Thread loopThread = threadOf(loop);

    Sent sent = sendOn(loop, forwarder, "/api/v1/pods");
    ForwardResponse response = sent.response();
    closeables.add(response);
    ThreadRecorder body = subscribe(response);

    assertThat(body.done.get(10, TimeUnit.SECONDS)).isEqualTo("{\"kind\":\"PodList\"}");
    assertThat(response.status()).isEqualTo(200);
    assertThat(sent.headThread.get(5, TimeUnit.SECONDS)).isSameAs(loopThread);
    assertThat(body.subscribeThread.get(5, TimeUnit.SECONDS)).isSameAs(loopThread);
    assertThat(body.nextThreads).containsOnly(loopThread);
    assertThat(body.terminalThread.get(5, TimeUnit.SECONDS)).isSameAs(loopThread);
    // the connection is the loop's own; the forwarder's threads never started, let alone did any work
    assertThat(forwarder.http2Connections(loop)).isEqualTo(1);
    assertThat(forwarder.http2Connections(null)).isZero();
    assertThat(forwarder.ioThreadsStarted()).isZero();
    assertThat(stub.connections).hasValue(1);
    assertThat(stub.requests.get(0).get("authorization")).hasToString("Bearer " + SA_TOKEN);
  }

  @Test
  void onACallersNioLoopTheHeadAndEveryBodySignalArriveOnThatLoop() throws Exception {
    headAndBodyArriveOnTheCallersLoop(NioIoHandler.newFactory());
  }

  @Test
  void onACallersEpollLoopTheHeadAndEveryBodySignalArriveOnThatLoop() throws Exception {
    Assumptions.assumeTrue(Epoll.isAvailable(), "epoll's native library does not load here");
    headAndBodyArriveOnTheCallersLoop(EpollIoHandler.newFactory());
  }

  @Test
  void fromAPlainThreadTheForwardersOwnThreadsServeTheRequest() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::list);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), true);
    CompletableFuture<Thread> headThread = new CompletableFuture<>();

    CompletableFuture<ForwardResponse> head = forwarder.forwardAsync(get("/api/v1/pods"), SA_TOKEN);
    head.whenComplete((r, e) -> headThread.complete(Thread.currentThread()));
    ForwardResponse response = head.get(20, TimeUnit.SECONDS);
    closeables.add(response);
    ThreadRecorder body = subscribe(response);

    assertThat(body.done.get(10, TimeUnit.SECONDS)).isEqualTo("{\"kind\":\"PodList\"}");
    assertThat(body.nextThreads).allMatch(t -> t.getName().startsWith("jit-k8s-forward-"));
    assertThat(body.terminalThread.get(5, TimeUnit.SECONDS).getName()).startsWith("jit-k8s-forward-");
    assertThat(forwarder.http2Connections(null)).isEqualTo(1);
    assertThat(forwarder.ioThreadsStarted()).isEqualTo(1);
  }

  @Test
  void withoutUseCallerEventLoopACallOnALoopIsServedByTheForwardersOwnThreads() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::list);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), false);
    EventLoop loop = callerGroup(1, NioIoHandler.newFactory()).next();

    Sent sent = sendOn(loop, forwarder, "/api/v1/pods");
    ForwardResponse response = sent.response();
    closeables.add(response);
    ThreadRecorder body = subscribe(response);

    assertThat(body.done.get(10, TimeUnit.SECONDS)).isEqualTo("{\"kind\":\"PodList\"}");
    assertThat(sent.headThread.get(5, TimeUnit.SECONDS).getName()).startsWith("jit-k8s-forward-");
    assertThat(body.nextThreads).isNotEmpty().allMatch(t -> t.getName().startsWith("jit-k8s-forward-"));
    assertThat(body.terminalThread.get(5, TimeUnit.SECONDS).getName()).startsWith("jit-k8s-forward-");
    assertThat(forwarder.http2Connections(loop)).isEqualTo(-1);
    assertThat(forwarder.http2Connections(null)).isEqualTo(1);
  }

  @Test
  void twoCallerLoopsGetAConnectionEachAndEachRequestIsServedOnItsCallersLoop() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::list);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), true);
    EventLoopGroup group = callerGroup(2, NioIoHandler.newFactory());
    EventLoop first = loopOf(group, 0);
    EventLoop second = loopOf(group, 1);
    assertThat(first).isNotSameAs(second);

    for (EventLoop loop : List.of(first, second, first, second)) {
      Sent sent = sendOn(loop, forwarder, "/api/v1/pods");
      ForwardResponse response = sent.response();
      closeables.add(response);
      ThreadRecorder body = subscribe(response);
      body.done.get(10, TimeUnit.SECONDS);
      Thread loopThread = threadOf(loop);
      assertThat(sent.headThread.get(5, TimeUnit.SECONDS)).isSameAs(loopThread);
      assertThat(body.nextThreads).containsOnly(loopThread);
      assertThat(body.terminalThread.get(5, TimeUnit.SECONDS)).isSameAs(loopThread);
    }

    assertThat(stub.connections).hasValue(2);
    assertThat(forwarder.http2Connections(first)).isEqualTo(1);
    assertThat(forwarder.http2Connections(second)).isEqualTo(1);
    assertThat(forwarder.ioThreadsStarted()).isZero();
  }

  @Test
  void closeClosesTheConnectionsOnABorrowedLoopButLeavesTheLoopRunningAndStopsTheOwnThreads()
      throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::watch);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), true);
    EventLoopGroup group = callerGroup(1, NioIoHandler.newFactory());
    EventLoop loop = group.next();
    ForwardResponse onLoop = sendOn(loop, forwarder, "/api/v1/pods?watch=1").response();
    closeables.add(onLoop);
    ThreadRecorder loopBody = subscribe(onLoop);
    loopBody.first.get(10, TimeUnit.SECONDS);
    ForwardResponse onOwn = forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN).get(20, TimeUnit.SECONDS);
    closeables.add(onOwn);
    ThreadRecorder ownBody = subscribe(onOwn);
    ownBody.first.get(10, TimeUnit.SECONDS);
    String ownThread = ownBody.nextThreads.iterator().next().getName();
    assertThat(ownThread).startsWith("jit-k8s-forward-");
    assertThat(stub.connections).hasValue(2);

    forwarder.close();

    await().atMost(Duration.ofSeconds(10)).until(() -> stub.parents.stream().noneMatch(Channel::isActive));
    assertThatThrownBy(() -> loopBody.done.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RelayException.class);
    assertThat(group.isShuttingDown()).isFalse();
    assertThat(loop.submit(() -> "still running").get(5, TimeUnit.SECONDS)).isEqualTo("still running");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals(ownThread)));
  }

  @Test
  void aBorrowedLoopShutDownByItsOwnerFailsItsStreamsAndLaterCallsStillWork() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::watch);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), true);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoop loop = group.next();
    ForwardResponse response = sendOn(loop, forwarder, "/api/v1/pods?watch=1").response();
    closeables.add(response);
    ThreadRecorder body = subscribe(response);
    body.first.get(10, TimeUnit.SECONDS);
    assertThat(forwarder.http2Connections(loop)).isEqualTo(1);

    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();

    assertThatThrownBy(() -> body.done.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RelayException.class);
    await().atMost(Duration.ofSeconds(10)).until(() -> forwarder.http2Connections(loop) == -1);
    await().atMost(Duration.ofSeconds(10)).until(() -> stub.parents.stream().noneMatch(Channel::isActive));
    ForwardResponse later = forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN).get(20, TimeUnit.SECONDS);
    closeables.add(later);
    assertThat(later.status()).isEqualTo(200);
    assertThat(subscribe(later).first.get(10, TimeUnit.SECONDS)).isEqualTo(EVENT);
    assertThat(forwarder.http2Connections(null)).isEqualTo(1);
  }

  @Test
  void theBlockingForwardOnALoopUsesTheOwnThreadsInsteadOfWaitingForItself() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::list);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), true);
    EventLoop loop = callerGroup(1, NioIoHandler.newFactory()).next();

    ForwardResponse response =
        loop.submit(() -> forwarder.forward(get("/api/v1/pods"), SA_TOKEN)).get(20, TimeUnit.SECONDS);

    try (response) {
      assertThat(response.body().readAllBytes()).asString(StandardCharsets.UTF_8).isEqualTo("{\"kind\":\"PodList\"}");
    }
    assertThat(forwarder.http2Connections(loop)).isEqualTo(-1);
    assertThat(forwarder.http2Connections(null)).isEqualTo(1);
  }

  @Test
  void readingTheBlockingBodyOnTheLoopThatDeliversItFailsInsteadOfHanging() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderEventLoopTest::watch);
    KubernetesForwarder forwarder = forwarder(stub.apiClient(), true);
    EventLoop loop = callerGroup(1, NioIoHandler.newFactory()).next();
    ForwardResponse response = sendOn(loop, forwarder, "/api/v1/pods?watch=1").response();
    closeables.add(response);

    Object outcome =
        loop.submit(
                () -> {
                  try {
                    return response.body().readAllBytes();
                  } catch (IOException e) {
                    return e;
                  }
                })
            .get(10, TimeUnit.SECONDS);

    assertThat(outcome).isInstanceOf(IOException.class);
    assertThat(((IOException) outcome)).hasMessageContaining("event loop");
  }

  @Test
  void useCallerEventLoopIsSetOnce() {
    KubernetesForwarder.Builder builder = KubernetesForwarder.builder().useCallerEventLoop(false);
    assertThatThrownBy(() -> builder.useCallerEventLoop(true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("useCallerEventLoop was already set to false");
  }
}
