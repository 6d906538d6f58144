package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Netty's request decoder, plus a refusal of obsolete line folding (RFC 9112 §5.2), which Netty silently joins.
 * Netty 4.2 already refuses Content-Length with Transfer-Encoding, several Content-Length values, signed
 * lengths, bare LF line ends and bad header names; the relay's tests pin that behaviour.
 *
 * <p>While a request head is being received, every byte is scanned once (a small state machine that survives
 * partial reads); a header line that starts with a space or tab marks the request as failed, and the request
 * handler answers 400 and closes the connection.
 */
public final class HttpStrictRequestDecoder extends HttpRequestDecoder {

  private boolean inHead = true;
  private boolean sawRequestLine;
  private boolean lineStart = true;
  private boolean folded;
  /** Bytes at the reader index already scanned by an earlier call but not yet consumed by the decoder. */
  private int scannedAhead;

  /**
   * Creates the decoder.
   *
   * @param config Netty's limits
   */
  public HttpStrictRequestDecoder(HttpDecoderConfig config) {
    super(config);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    int end = in.writerIndex();
    if (inHead && !folded) {
      scan(in, in.readerIndex() + scannedAhead, end);
    }
    int before = out.size();
    super.decode(ctx, in, out);
    scannedAhead = inHead && out.size() == before ? Math.max(0, end - in.readerIndex()) : 0;
    for (int i = before; i < out.size(); i++) {
      Object message = out.get(i);
      if (message instanceof HttpRequest request) {
        if (folded && request.decoderResult().isSuccess()) {
          request.setDecoderResult(
              DecoderResult.failure(new IllegalArgumentException("obsolete line folding is not allowed")));
        }
        inHead = false;
      }
      if (message instanceof LastHttpContent) {
        resetHead();
      }
    }
  }

  private void resetHead() {
    inHead = true;
    sawRequestLine = false;
    lineStart = true;
    scannedAhead = 0;
  }

  private void scan(ByteBuf in, int from, int to) {
    for (int i = from; i < to; i++) {
      byte b = in.getByte(i);
      if (b == '\n') {
        if (lineStart && sawRequestLine) {
          inHeadEnd();
          return;
        }
        lineStart = true;
        continue;
      }
      if (b == '\r') {
        continue;
      }
      if (lineStart && sawRequestLine && (b == ' ' || b == '\t')) {
        folded = true;
        return;
      }
      sawRequestLine = true;
      lineStart = false;
    }
  }

  private void inHeadEnd() {
    // The blank line ends the head: stop scanning until the decoder has delivered this request.
    lineStart = false;
    sawRequestLine = false;
  }
}
