package dev.jitaccess.k8s.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A small, strict HTTP/1.1 response parser for the upgrade path, where OkHttp cannot be used. It reads
 * byte by byte and never past the end of what it parses, so that the bytes after a {@code 101} head stay in
 * the stream for the upgraded protocol. Lines must end in CRLF; bare CR, bare LF, obs-fold and control
 * characters are refused, as are heads over {@link #MAX_HEAD_BYTES}.
 */
final class Http1Parser {
  /** The largest status line plus headers accepted. */
  static final int MAX_HEAD_BYTES = 8 * 1024;
  /** The largest body of a refused upgrade accepted (it is an error Status, usually well under 1 KiB). */
  static final int MAX_BODY_BYTES = 1024 * 1024;

  private final InputStream in;
  private int headBytes;

  Http1Parser(InputStream in) {
    this.in = in;
  }

  ResponseHead readHead() throws IOException {
    String statusLine = readLine(true);
    if (statusLine.length() < 12
        || !(statusLine.startsWith("HTTP/1.1 ") || statusLine.startsWith("HTTP/1.0 "))
        || (statusLine.length() > 12 && statusLine.charAt(12) != ' ')) {
      throw new ProtocolException("not an HTTP/1.1 status line");
    }
    int status = 0;
    for (int i = 9; i < 12; i++) {
      char c = statusLine.charAt(i);
      if (c < '0' || c > '9') {
        throw new ProtocolException("status code is not three digits");
      }
      status = status * 10 + (c - '0');
    }
    if (status < 100) {
      throw new ProtocolException("status code " + status + " is out of range");
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    while (true) {
      String line = readLine(true);
      if (line.isEmpty()) {
        return new ResponseHead(status, headers);
      }
      if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        throw new ProtocolException("obsolete line folding in a response header");
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || !isToken(line.substring(0, colon))) {
        throw new ProtocolException("malformed response header line");
      }
      headers.add(Map.entry(line.substring(0, colon), line.substring(colon + 1).strip()));
    }
  }

  /** Reads the whole body of a non-upgraded answer, framed as the head says, up to {@link #MAX_BODY_BYTES}. */
  byte[] readBody(ResponseHead head, boolean isHead) throws IOException {
    int status = head.status();
    if (isHead || status == 204 || status == 304) {
      return new byte[0];
    }
    List<String> te = head.values("Transfer-Encoding");
    List<String> cl = head.values("Content-Length");
    if (!te.isEmpty()) {
      if (te.size() != 1 || !te.get(0).equalsIgnoreCase("chunked") || !cl.isEmpty()) {
        throw new ProtocolException("unsupported or ambiguous Transfer-Encoding");
      }
      return readChunked();
    }
    if (!cl.isEmpty()) {
      if (cl.size() != 1 || !cl.get(0).matches("[0-9]{1,9}")) {
        throw new ProtocolException("invalid or repeated Content-Length");
      }
      int length = Integer.parseInt(cl.get(0));
      if (length > MAX_BODY_BYTES) {
        throw new ProtocolException("response body of " + length + " bytes is over the limit");
      }
      byte[] body = in.readNBytes(length);
      if (body.length != length) {
        throw new ProtocolException("connection closed inside the response body");
      }
      return body;
    }
    byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
    if (body.length > MAX_BODY_BYTES) {
      throw new ProtocolException("response body is over the limit of " + MAX_BODY_BYTES + " bytes");
    }
    return body;
  }

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (true) {
      String line = readLine(false);
      int semicolon = line.indexOf(';');
      String size = (semicolon < 0 ? line : line.substring(0, semicolon)).strip();
      if (!size.matches("[0-9a-fA-F]{1,7}")) {
        throw new ProtocolException("invalid chunk size");
      }
      int length = Integer.parseInt(size, 16);
      if (length == 0) {
        while (!readLine(false).isEmpty()) {
          // trailers are dropped
        }
        return out.toByteArray();
      }
      if (out.size() + length > MAX_BODY_BYTES) {
        throw new ProtocolException("response body is over the limit of " + MAX_BODY_BYTES + " bytes");
      }
      byte[] chunk = in.readNBytes(length);
      if (chunk.length != length) {
        throw new ProtocolException("connection closed inside a chunk");
      }
      out.write(chunk);
      if (!readLine(false).isEmpty()) {
        throw new ProtocolException("chunk not followed by CRLF");
      }
    }
  }

  /**
   * Reads one CRLF-terminated line of ISO-8859-1. Head lines count against {@link #MAX_HEAD_BYTES} in total;
   * any single line (chunk sizes, trailers) is limited to it as well.
   */
  private String readLine(boolean head) throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new ProtocolException("connection closed inside the response head");
      }
      if ((head && ++headBytes > MAX_HEAD_BYTES) || line.length() >= MAX_HEAD_BYTES) {
        throw new ProtocolException("response head is over the limit of " + MAX_HEAD_BYTES + " bytes");
      }
      if (b == '\r') {
        if (in.read() != '\n') {
          throw new ProtocolException("bare CR in the response");
        }
        headBytes += head ? 1 : 0;
        return line.toString();
      }
      if (b == '\n') {
        throw new ProtocolException("bare LF in the response");
      }
      if ((b < 0x20 && b != '\t') || b == 0x7f) {
        throw new ProtocolException("control character in the response head");
      }
      line.append((char) b);
    }
  }

  private static boolean isToken(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(Character.isLetterOrDigit(c) && c < 0x80) && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
        return false;
      }
    }
    return !s.isEmpty();
  }
}
