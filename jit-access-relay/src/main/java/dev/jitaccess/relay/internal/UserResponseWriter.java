package dev.jitaccess.relay.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.Locale;
import java.util.Map;

/**
 * Turns what the agent sends on a tunnel stream into the user's response, frame by frame, so a watch reaches the
 * user event by event. 3xx answers pass through unchanged (the relay never follows them).
 */
final class UserResponseWriter {

  private final boolean http2;

  UserResponseWriter(boolean http2) {
    this.http2 = http2;
  }

  boolean write(ChannelHandlerContext ctx, UserExchange e, Object msg) {
    if (msg instanceof Http2HeadersFrame frame) {
      return e.responseStarted ? trailers(ctx, frame) : head(ctx, e, frame);
    }
    if (msg instanceof Http2DataFrame frame) {
      if (!e.responseStarted) {
        frame.release();
        return false;
      }
      e.bytesOut += frame.content().readableBytes();
      boolean last = frame.isEndStream();
      ctx.writeAndFlush(last ? new DefaultLastHttpContent(frame.content()) : new DefaultHttpContent(frame.content()));
      return last;
    }
    ReferenceCountUtil.release(msg);
    return false;
  }

  private boolean head(ChannelHandlerContext ctx, UserExchange e, Http2HeadersFrame frame) {
    Http2Headers headers = frame.headers();
    HttpResponseStatus status;
    try {
      status = HttpResponseStatus.parseLine(headers.status());
    } catch (RuntimeException malformed) {
      status = HttpResponseStatus.BAD_GATEWAY;
    }
    if (status.code() >= 100 && status.code() < 200) {
      return false; // informational answers are not relayed
    }
    e.status = status.code();
    e.responseStarted = true;
    boolean end = frame.isEndStream();
    HttpResponse response =
        end
            ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER)
            : new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
    copyHeaders(headers, response.headers());
    boolean bodiless = e.method.equals(HttpMethod.HEAD) || status.code() == 204 || status.code() == 304;
    if (!response.headers().contains(HttpHeaderNames.CONTENT_LENGTH) && !bodiless) {
      if (end) {
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
      } else if (!http2) {
        response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      }
    }
    if (!http2 && (!e.keepAlive || e.upgrade != null)) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ctx.writeAndFlush(response);
    return end;
  }

  private static boolean trailers(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
    if (!frame.isEndStream()) {
      return false;
    }
    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    return true;
  }

  private static void copyHeaders(Http2Headers from, HttpHeaders to) {
    for (Map.Entry<CharSequence, CharSequence> entry : from) {
      String name = entry.getKey().toString().toLowerCase(Locale.ROOT);
      if (HeaderPolicy.isForwardedResponseHeader(name) && !name.startsWith("jit-")) {
        to.add(name, entry.getValue());
      }
    }
  }
}
