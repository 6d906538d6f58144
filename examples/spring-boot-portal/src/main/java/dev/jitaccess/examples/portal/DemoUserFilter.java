package dev.jitaccess.examples.portal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jitaccess.api.Subject;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * DEMO STAND-IN FOR A REAL LOGIN. Takes the caller's identity from the {@code X-Demo-User} and
 * {@code X-Demo-Groups} (comma-separated) headers, which anyone can forge. A real portal gets the
 * {@link Subject} from its own authentication (Spring Security with OIDC login, a session, mTLS) and must never
 * trust such headers. Requests to {@code /api/**} without {@code X-Demo-User} get 401.
 */
@Component
public class DemoUserFilter extends OncePerRequestFilter {
  /** The request attribute holding the caller's {@link Subject}. */
  public static final String SUBJECT = "dev.jitaccess.examples.portal.subject";

  private final ObjectMapper json;

  /**
   * Creates the filter.
   *
   * @param json Spring's object mapper, for the 401 body
   */
  public DemoUserFilter(ObjectMapper json) {
    this.json = json;
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return !request.getRequestURI().startsWith(request.getContextPath() + "/api/");
  }

  @Override
  protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String user = request.getHeader("X-Demo-User");
    Subject subject;
    try {
      if (user == null || user.isBlank()) {
        throw new IllegalArgumentException("send the X-Demo-User header (the demo's stand-in for a real login)");
      }
      subject = new Subject(user, groups(request.getHeader("X-Demo-Groups")), Map.of());
    } catch (IllegalArgumentException e) {
      response.setStatus(HttpStatus.UNAUTHORIZED.value());
      response.setContentType(MediaType.APPLICATION_JSON_VALUE);
      json.writeValue(response.getOutputStream(), new ApiError("unauthenticated", e.getMessage()));
      return;
    }
    request.setAttribute(SUBJECT, subject);
    chain.doFilter(request, response);
  }

  private static Set<String> groups(String header) {
    if (header == null || header.isBlank()) {
      return Set.of();
    }
    return Arrays.stream(header.split(",")).map(String::strip).filter(g -> !g.isEmpty()).collect(Collectors.toSet());
  }
}
