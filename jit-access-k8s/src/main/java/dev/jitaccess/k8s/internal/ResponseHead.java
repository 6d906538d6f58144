package dev.jitaccess.k8s.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The status line and headers of an HTTP/1.1 response.
 *
 * @param status the status code
 * @param headers the headers in order, names as the server spelled them
 */
record ResponseHead(int status, List<Map.Entry<String, String>> headers) {
  ResponseHead {
    headers = List.copyOf(headers);
  }

  /** All values of a header, in order. */
  List<String> values(String name) {
    List<String> values = new ArrayList<>();
    for (Map.Entry<String, String> h : headers) {
      if (h.getKey().equalsIgnoreCase(name)) {
        values.add(h.getValue());
      }
    }
    return values;
  }
}
