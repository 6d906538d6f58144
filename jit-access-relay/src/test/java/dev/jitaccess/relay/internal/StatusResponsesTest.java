package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

final class StatusResponsesTest {

  @Test
  void discoveryRootsThatClientGoReadsRawAreAnsweredAsText() {
    assertThat(StatusResponses.readAsText("GET", "/api")).isTrue();
    assertThat(StatusResponses.readAsText("GET", "/api/")).isTrue();
    assertThat(StatusResponses.readAsText("GET", "/apis")).isTrue();
    assertThat(StatusResponses.readAsText("GET", "/version")).isTrue();
    assertThat(StatusResponses.readAsText("GET", "/openapi/v3")).isTrue();
  }

  @Test
  void everythingElseIsAnsweredWithAStatusObject() {
    assertThat(StatusResponses.readAsText("GET", "/api/v1")).isFalse();
    assertThat(StatusResponses.readAsText("GET", "/api/v1/namespaces")).isFalse();
    assertThat(StatusResponses.readAsText("GET", "/apis/apps/v1")).isFalse();
    assertThat(StatusResponses.readAsText("GET", "/")).isFalse();
    assertThat(StatusResponses.readAsText("GET", "/apiserver")).isFalse();
    assertThat(StatusResponses.readAsText("POST", "/api")).isFalse();
  }

  @Test
  void aTextAnswerCarriesTheMessageAlone() {
    FullHttpResponse response =
        StatusResponses.status(ByteBufAllocator.DEFAULT, HttpResponseStatus.FORBIDDEN, "no binding allows bob", true);
    try {
      assertThat(response.status().code()).isEqualTo(403);
      assertThat(response.headers().get("content-type")).isEqualTo("text/plain; charset=utf-8");
      assertThat(response.content().toString(StandardCharsets.UTF_8)).isEqualTo("no binding allows bob\n");
      assertThat(response.headers().getInt("content-length")).isEqualTo(22);
    } finally {
      response.release();
    }
  }

  @Test
  void aStatusAnswerIsJson() {
    FullHttpResponse response =
        StatusResponses.status(ByteBufAllocator.DEFAULT, HttpResponseStatus.FORBIDDEN, "no binding allows bob", false);
    try {
      assertThat(response.headers().get("content-type")).isEqualTo("application/json");
      assertThat(response.content().toString(StandardCharsets.UTF_8))
          .contains("\"kind\":\"Status\"")
          .contains("\"message\":\"no binding allows bob\"")
          .contains("\"code\":403");
    } finally {
      response.release();
    }
  }
}
