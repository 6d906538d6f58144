package dev.jitaccess.api.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.UpgradedConnection;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

final class ClusterForwarderDefaultsTest {
  private static final ForwardRequest GET = new ForwardRequest("GET", "/api", Map.of(), null, 0);

  @Test
  void forwardAsyncByDefaultForwardsOnTheCallingThreadAndCompletes() throws Exception {
    Thread caller = Thread.currentThread();
    Thread[] ranOn = new Thread[1];
    ForwardResponse answer = new Fixed();
    ClusterForwarder forwarder =
        (request, token) -> {
          ranOn[0] = Thread.currentThread();
          return answer;
        };

    CompletableFuture<ForwardResponse> future = forwarder.forwardAsync(GET, "token");

    assertThat(future).isCompleted();
    assertThat(future.get()).isSameAs(answer);
    assertThat(ranOn[0]).isSameAs(caller);
    assertThat(forwarder.isNonBlocking()).isFalse();
    assertThat(answer.bodyPublisher()).isEmpty();
  }

  @Test
  void forwardAsyncFailsTheFutureWhenTheServerCannotBeReached() {
    ClusterForwarder forwarder =
        (request, token) -> {
          throw new RelayException("kube-apiserver could not be reached");
        };

    CompletableFuture<ForwardResponse> future = forwarder.forwardAsync(GET, "token");

    assertThat(future).isCompletedExceptionally();
    assertThatThrownBy(future::get)
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(RelayException.class);
  }

  @Test
  void forwardAsyncThrowsAtOnceForARefusedRequest() {
    ClusterForwarder forwarder =
        (request, token) -> {
          throw new IllegalArgumentException("the header Impersonate-User is not allowed");
        };

    assertThatThrownBy(() -> forwarder.forwardAsync(GET, "token"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Impersonate-User");
  }

  private static final class Fixed implements ForwardResponse {
    @Override
    public int status() {
      return 200;
    }

    @Override
    public Map<String, List<String>> headers() {
      return Map.of();
    }

    @Override
    public InputStream body() {
      return new ByteArrayInputStream(new byte[0]);
    }

    @Override
    public Optional<UpgradedConnection> upgraded() {
      return Optional.empty();
    }

    @Override
    public void close() {}
  }
}
