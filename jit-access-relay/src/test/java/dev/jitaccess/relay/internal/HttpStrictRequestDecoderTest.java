package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class HttpStrictRequestDecoderTest {

  private static List<HttpRequest> decode(String... pieces) {
    EmbeddedChannel channel = new EmbeddedChannel(new HttpStrictRequestDecoder(new HttpDecoderConfig()));
    for (String piece : pieces) {
      channel.writeInbound(Unpooled.copiedBuffer(piece, StandardCharsets.ISO_8859_1));
    }
    List<HttpRequest> requests = new ArrayList<>();
    for (Object o; (o = channel.readInbound()) != null; ) {
      if (o instanceof HttpRequest r) {
        requests.add(r);
      }
      ReferenceCountUtil.release(o);
    }
    channel.finishAndReleaseAll();
    return requests;
  }

  @Test
  void foldedHeaderFailsTheRequest() {
    assertThat(decode("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"))
        .singleElement()
        .satisfies(r -> assertThat(r.decoderResult().isFailure()).isTrue());
  }

  @Test
  void foldSplitAcrossReadsIsStillFound() {
    assertThat(decode("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n", "\t", "b\r\n\r\n"))
        .singleElement()
        .satisfies(r -> assertThat(r.decoderResult().isFailure()).isTrue());
  }

  @Test
  void bodyBytesThatLookLikeFoldsAreNotHeaders() {
    List<HttpRequest> requests =
        decode(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n\r\n \r",
            "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");

    assertThat(requests).hasSize(2).allSatisfy(r -> assertThat(r.decoderResult().isSuccess()).isTrue());
    assertThat(requests.get(1).uri()).isEqualTo("/next");
  }

  @Test
  void secondRequestOnAConnectionIsScannedToo() {
    List<HttpRequest> requests =
        decode("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "GET /b HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n");

    assertThat(requests).hasSize(2);
    assertThat(requests.get(0).decoderResult().isSuccess()).isTrue();
    assertThat(requests.get(1).decoderResult().isFailure()).isTrue();
  }
}
