package dev.jitaccess.examples.portal;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.examples.portal.Views.RequestForm;
import dev.jitaccess.examples.portal.Views.RequestView;
import dev.jitaccess.examples.portal.Views.ReviewForm;
import java.util.List;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** Access requests for eligible roles: ask, list mine and those to review, approve, deny, cancel. */
@RestController
@RequestMapping("/api/requests")
public class RequestsController {
  private final JitAccess jit;
  private final PortalProperties portal;

  /**
   * Creates the controller.
   *
   * @param jit the engine
   * @param portal the portal settings
   */
  public RequestsController(JitAccess jit, PortalProperties portal) {
    this.jit = jit;
    this.portal = portal;
  }

  @PostMapping
  @ResponseStatus(HttpStatus.CREATED)
  RequestView request(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me, @RequestBody RequestForm form) {
    String cluster = portal.knownCluster(form.cluster());
    if (form.justification() == null || form.justification().isBlank()) {
      throw new IllegalArgumentException("justification is required: say why you need the role on " + cluster);
    }
    Set<String> roles = form.roles() == null ? Set.of() : Set.copyOf(form.roles());
    AccessRequest request =
        new AccessRequest(me, cluster, form.justification(), AccessController.duration(form.duration()));
    return view(jit.requestAccess(request, roles));
  }

  @GetMapping
  List<RequestView> mine(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me) {
    return jit.requestsOf(me.id()).stream().map(this::view).toList();
  }

  @GetMapping("/review")
  List<RequestView> toReview(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me) {
    return jit.requestsToReview(me).stream().map(this::view).toList();
  }

  @PostMapping("/{id}/approve")
  RequestView approve(
      @RequestAttribute(DemoUserFilter.SUBJECT) Subject me,
      @PathVariable String id,
      @RequestBody(required = false) ReviewForm form) {
    String comment = form == null || form.comment() == null || form.comment().isBlank() ? null : form.comment();
    requireKnown(id);
    return view(jit.approve(id, me, comment));
  }

  @PostMapping("/{id}/deny")
  RequestView deny(
      @RequestAttribute(DemoUserFilter.SUBJECT) Subject me,
      @PathVariable String id,
      @RequestBody(required = false) ReviewForm form) {
    if (form == null || form.comment() == null || form.comment().isBlank()) {
      throw new IllegalArgumentException("a denial needs a reason (comment), shown to the requester");
    }
    requireKnown(id);
    return view(jit.deny(id, me, form.comment()));
  }

  @DeleteMapping("/{id}")
  RequestView cancel(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me, @PathVariable String id) {
    requireKnown(id);
    return view(jit.cancel(id, me));
  }

  private void requireKnown(String id) {
    if (jit.findRequest(id).isEmpty()) {
      throw new NotFoundException("unknown access request '" + id + "'; list yours with GET /api/requests");
    }
  }

  private RequestView view(AccessRequestState state) {
    return RequestView.of(state, jit.clock().instant());
  }
}
