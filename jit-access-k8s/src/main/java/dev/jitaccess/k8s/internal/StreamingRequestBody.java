package dev.jitaccess.k8s.internal;

import java.io.IOException;
import java.io.InputStream;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.BufferedSink;
import okio.Okio;
import okio.Source;
import org.jspecify.annotations.Nullable;

/**
 * A request body copied from an {@link InputStream} to the network as it is read, never buffered whole.
 * One-shot: it cannot be replayed, so OkHttp never retries a request that carries it.
 */
final class StreamingRequestBody extends RequestBody {
  private final InputStream in;
  private final long contentLength;

  StreamingRequestBody(InputStream in, long contentLength) {
    this.in = in;
    this.contentLength = contentLength;
  }

  @Override
  public @Nullable MediaType contentType() {
    return null; // the user's Content-Type header is sent as it is
  }

  @Override
  public long contentLength() {
    return contentLength;
  }

  @Override
  public boolean isOneShot() {
    return true;
  }

  @Override
  public void writeTo(BufferedSink sink) throws IOException {
    try (Source source = Okio.source(in)) {
      if (contentLength < 0) {
        // flush each read, so that a slowly produced body reaches the server as it is produced
        okio.Buffer buffer = new okio.Buffer();
        long n;
        while ((n = source.read(buffer, 8192)) != -1) {
          sink.write(buffer, n);
          sink.flush();
        }
      } else {
        long written = sink.writeAll(source);
        if (written != contentLength) {
          throw new IOException(
              "request body had " + written + " bytes but contentLength was " + contentLength);
        }
      }
    }
  }
}
