package dev.jitaccess.k8s;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;

import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static dev.jitaccess.k8s.Fixtures.forwarder;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Proves incremental delivery in both directions without sleeping: the server holds back the second half
 * until the test has seen the first half come through the forwarder. A forwarder that buffered whole would
 * deadlock here, and the timeouts turn that into a failure.
 */
final class KubernetesForwarderStreamingTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private HttpServer server;
  private String baseUrl;

  @BeforeEach
  void startServer() throws IOException {
    System.setProperty("sun.net.httpserver.nodelay", "true");
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    baseUrl = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  @Test
  void streamsAWatchResponseEventByEvent() {
    CountDownLatch firstEventSeen = new CountDownLatch(1);
    server.createContext(
        "/api/v1/namespaces/default/pods",
        exchange -> {
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, 0); // chunked
          try (OutputStream out = exchange.getResponseBody()) {
            out.write("{\"type\":\"ADDED\",\"object\":{\"name\":\"web-0\"}}\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (!firstEventSeen.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
              return; // the client never saw the first event: end the stream without the second one
            }
            out.write("{\"type\":\"DELETED\",\"object\":{\"name\":\"web-0\"}}\n".getBytes(StandardCharsets.UTF_8));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    server.start();

    assertTimeoutPreemptively(
        TIMEOUT.plusSeconds(5),
        () -> {
          ForwardRequest watch =
              ForwardRequest.of("GET", "/api/v1/namespaces/default/pods?watch=1", Map.of());
          try (ForwardResponse response = forwarder(baseUrl).forward(watch, SA_TOKEN);
              BufferedReader events =
                  new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            assertThat(response.status()).isEqualTo(200);
            assertThat(events.readLine()).contains("ADDED");
            firstEventSeen.countDown();
            assertThat(events.readLine()).contains("DELETED");
            assertThat(events.readLine()).isNull();
          }
        });
  }

  @Test
  void streamsARequestBodyOfUnknownLengthAsItIsProduced() throws Exception {
    CountDownLatch firstPartReceived = new CountDownLatch(1);
    AtomicReference<String> received = new AtomicReference<>("");
    server.createContext(
        "/api/v1/namespaces/default/pods",
        exchange -> {
          BufferedReader body =
              new BufferedReader(new InputStreamReader(exchange.getRequestBody(), StandardCharsets.UTF_8));
          String first = body.readLine();
          firstPartReceived.countDown();
          String second = body.readLine();
          received.set(first + "|" + second + "|" + exchange.getRequestHeaders().getFirst("Transfer-Encoding"));
          exchange.sendResponseHeaders(201, -1);
          exchange.close();
        });
    server.start();

    PipedInputStream bodyIn = new PipedInputStream();
    PipedOutputStream bodyOut = new PipedOutputStream(bodyIn);
    ForwardRequest post = new ForwardRequest("POST", "/api/v1/namespaces/default/pods", Map.of(), bodyIn, -1);
    KubernetesForwarder forwarder = forwarder(baseUrl);
    CompletableFuture<Integer> status =
        CompletableFuture.supplyAsync(
            () -> {
              try (ForwardResponse response = forwarder.forward(post, SA_TOKEN)) {
                return response.status();
              }
            });

    bodyOut.write("part-1\n".getBytes(StandardCharsets.UTF_8));
    bodyOut.flush();
    assertThat(firstPartReceived.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
        .as("the server saw the first part before the second was written")
        .isTrue();
    bodyOut.write("part-2\n".getBytes(StandardCharsets.UTF_8));
    bodyOut.close();

    assertThat(status.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(201);
    assertThat(received.get()).isEqualTo("part-1|part-2|chunked");
  }
}
