package dev.jitaccess.relay.internal;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * Pausing and resuming reads on a channel. A Netty HTTP/2 stream channel writes the WINDOW_UPDATE for the bytes it
 * delivered when its next read begins, but flushes it only when that read delivers a frame. When reading resumes
 * with nothing buffered (the peer is waiting for exactly that window), the WINDOW_UPDATE would sit unflushed and
 * the stream would stall for good. So resuming a stream channel always flushes it too, on its own event loop and
 * after the read began (a flush is a no-op when nothing is pending).
 */
final class StreamReads {
  private StreamReads() {}

  /**
   * Sets whether the channel reads by itself; may be called from any thread.
   *
   * @param channel a connection or an HTTP/2 stream channel
   * @param read whether it should read
   */
  static void autoRead(Channel channel, boolean read) {
    boolean was = channel.config().isAutoRead();
    channel.config().setAutoRead(read); // resuming schedules a read on the channel's loop (or reads now, on it)
    if (read && !was && channel instanceof Http2StreamChannel) {
      channel.flush(); // queued on the same loop after that read
    }
  }
}
