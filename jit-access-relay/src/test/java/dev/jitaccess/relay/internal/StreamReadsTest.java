package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stall {@link StreamReads} prevents, reproduced step by step between a real HTTP/2 client and server codec
 * joined by hand (no sockets, no threads, no timing).
 *
 * <p>The state: a stream channel whose reading was resumed during a read (it is {@code REQUESTED}), paused by a
 * later frame of the same read, and so left with a read in progress and bytes delivered but not yet given back to
 * the peer. Resuming it then writes the WINDOW_UPDATE for those bytes without flushing it; when the peer has used up
 * the stream's window, it waits for that update for good. This is what the relay's tunnel stream met when its user
 * connection's writability flapped (the relay pauses the tunnel stream while its user cannot take more).
 */
final class StreamReadsTest {
  private static final int WINDOW = 1024;
  // Netty gives bytes back once half the window is consumed: each frame is half of it, so each is given back.
  private static final int FIRST = WINDOW / 2;
  private static final int SECOND = WINDOW - FIRST;

  private EmbeddedChannel client;
  private EmbeddedChannel server;
  private Http2FrameCodec serverCodec;
  private final List<Http2StreamChannel> serverStreams = new ArrayList<>();

  @BeforeEach
  void connect() {
    client = new EmbeddedChannel();
    client.pipeline().addLast(
        Http2FrameCodecBuilder.forClient().initialSettings(Http2Settings.defaultSettings().initialWindowSize(WINDOW)).build(),
        new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
    server = new EmbeddedChannel();
    serverCodec = Http2FrameCodecBuilder.forServer().build();
    server.pipeline().addLast(
        serverCodec,
        new Http2MultiplexHandler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame) {
              serverStreams.add((Http2StreamChannel) ctx.channel());
            }
            ReferenceCountUtil.release(msg);
          }
        }));
    pump();
  }

  @AfterEach
  void close() {
    client.finishAndReleaseAll();
    server.finishAndReleaseAll();
  }

  @Test
  void resumingAStreamThatWasPausedMidReadFlushesTheWindowUpdateThePeerWaitsFor() {
    Http2StreamChannel stream = openPausedMidRead();

    StreamReads.autoRead(stream, true);
    pump();

    assertThat(serverSendWindow()).as("the server may send the whole window again").isEqualTo(WINDOW);
  }

  @Test
  void nettyAloneLeavesThatWindowUpdateUnflushed() {
    // Why StreamReads exists: if this starts failing after a Netty upgrade, Netty flushes by itself now.
    Http2StreamChannel stream = openPausedMidRead();

    stream.config().setAutoRead(true);
    pump();

    assertThat(serverSendWindow()).as("the update for the second frame never left the client").isEqualTo(FIRST);
    stream.flush();
    pump();
    assertThat(serverSendWindow()).isEqualTo(WINDOW);
  }

  @Test
  void pausingAndResumingAConnectionOrAnIdleStreamJustSetsAutoRead() {
    Http2StreamChannel stream = open((ctx, data) -> {});
    StreamReads.autoRead(stream, false);
    assertThat(stream.config().isAutoRead()).isFalse();
    StreamReads.autoRead(stream, true);
    assertThat(stream.config().isAutoRead()).isTrue();
    StreamReads.autoRead(client, false);
    assertThat(client.config().isAutoRead()).isFalse();
    StreamReads.autoRead(client, true);
    assertThat(client.config().isAutoRead()).isTrue();
  }

  /**
   * Opens a stream, has the server use up its whole window in two DATA frames that arrive in one read, and handles
   * them as the relay does when its user's writability flaps: the first frame pauses and resumes reading (the
   * resume, inside the read, only marks another read as requested), the second pauses it.
   */
  private Http2StreamChannel openPausedMidRead() {
    int[] frames = {0};
    Http2StreamChannel stream = open((ctx, data) -> {
      if (frames[0]++ == 0) {
        StreamReads.autoRead(ctx.channel(), false);
        StreamReads.autoRead(ctx.channel(), true);
      } else {
        StreamReads.autoRead(ctx.channel(), false);
      }
    });
    Http2StreamChannel peer = serverStreams.get(0);
    peer.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
    peer.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[FIRST]))); // or they are merged
    peer.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[SECOND])));
    pump();
    assertThat(frames[0]).as("frames delivered").isEqualTo(2);
    assertThat(stream.config().isAutoRead()).as("paused by the second frame").isFalse();
    assertThat(serverSendWindow()).as("only the first frame was given back").isEqualTo(FIRST);
    return stream;
  }

  private Http2StreamChannel open(BiConsumer<ChannelHandlerContext, Http2DataFrame> onData) {
    Http2StreamChannel stream = new Http2StreamChannelBootstrap(client)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
              if (msg instanceof Http2DataFrame data) {
                onData.accept(ctx, data);
              }
            } finally {
              ReferenceCountUtil.release(msg);
            }
          }
        })
        .open()
        .syncUninterruptibly()
        .getNow();
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(
        new DefaultHttp2Headers().method("GET").path("/watch").scheme("https").authority("agent"), true));
    pump();
    assertThat(serverStreams).hasSize(1);
    return stream;
  }

  private int serverSendWindow() {
    return serverCodec.connection().remote().flowController()
        .windowSize(serverCodec.connection().stream(serverStreams.get(0).stream().id()));
  }

  /** Carries what each side flushed to the other, everything one side flushed as one read, until both are quiet. */
  private void pump() {
    boolean moved;
    do {
      moved = carry(client, server) | carry(server, client);
    } while (moved);
  }

  private static boolean carry(EmbeddedChannel from, EmbeddedChannel to) {
    from.runPendingTasks();
    List<Object> bytes = new ArrayList<>();
    for (Object out; (out = from.readOutbound()) != null; ) {
      bytes.add(out);
    }
    if (bytes.isEmpty()) {
      return false;
    }
    to.writeInbound(bytes.toArray());
    to.runPendingTasks();
    for (Object in; (in = to.readInbound()) != null; ) {
      ReferenceCountUtil.release(in);
    }
    return true;
  }
}
