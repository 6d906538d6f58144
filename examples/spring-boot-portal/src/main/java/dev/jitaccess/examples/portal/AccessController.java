package dev.jitaccess.examples.portal;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.examples.portal.Views.AccessForm;
import dev.jitaccess.examples.portal.Views.AuditView;
import dev.jitaccess.examples.portal.Views.GrantView;
import dev.jitaccess.relay.RelayServer;
import java.time.Duration;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** Grants: ask for access now, list and revoke it, download a kubeconfig, read the audit trail. */
@RestController
@RequestMapping("/api")
public class AccessController {
  private final JitAccess jit;
  private final PortalProperties portal;
  private final ObjectProvider<RelayServer> relay;
  private final RecentAuditEvents audit;

  /**
   * Creates the controller.
   *
   * @param jit the engine
   * @param portal the portal settings
   * @param relay the relay, when {@code jitaccess.relay.enabled=true}
   * @param audit the recent audit events
   */
  public AccessController(
      JitAccess jit, PortalProperties portal, ObjectProvider<RelayServer> relay, RecentAuditEvents audit) {
    this.jit = jit;
    this.portal = portal;
    this.relay = relay;
    this.audit = audit;
  }

  @PostMapping("/access")
  @ResponseStatus(HttpStatus.CREATED)
  GrantView requestAccess(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me, @RequestBody AccessForm form) {
    String cluster = portal.knownCluster(form.cluster());
    if (form.justification() == null || form.justification().isBlank()) {
      throw new IllegalArgumentException("justification is required: say why you need access to " + cluster);
    }
    Duration duration = duration(form.duration());
    if (duration != null && duration.compareTo(jit.maxGrantTtl()) > 0) {
      throw new IllegalArgumentException(
          "duration " + duration + " exceeds the maximum " + jit.maxGrantTtl() + "; ask for less");
    }
    return GrantView.of(jit.authorize(new AccessRequest(me, cluster, form.justification(), duration)));
  }

  @GetMapping("/grants")
  List<GrantView> myGrants(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me) {
    return jit.activeGrants(me.id()).stream().map(GrantView::of).toList();
  }

  @DeleteMapping("/grants/{cluster}")
  ResponseEntity<Void> revokeMine(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me, @PathVariable String cluster) {
    jit.revoke(me.id(), portal.knownCluster(cluster));
    return ResponseEntity.noContent().build();
  }

  @DeleteMapping("/admin/grants/{subject}")
  ResponseEntity<Void> revokeAnyone(
      @RequestAttribute(DemoUserFilter.SUBJECT) Subject me,
      @PathVariable String subject,
      @RequestParam(required = false) String cluster) {
    requireAdmin(me, "revoke someone else's access");
    if (cluster == null) {
      jit.revoke(subject);
    } else {
      jit.revoke(subject, portal.knownCluster(cluster));
    }
    return ResponseEntity.noContent().build();
  }

  @GetMapping("/kubeconfig/{cluster}")
  ResponseEntity<String> kubeconfig(@RequestAttribute(DemoUserFilter.SUBJECT) Subject me, @PathVariable String cluster) {
    String known = portal.knownCluster(cluster);
    RelayServer server = relay.getIfAvailable();
    if (server == null) {
      throw new NotFoundException(
          "the relay is not enabled here; set jitaccess.relay.enabled=true with a TLS key and certificate");
    }
    String yaml = server.kubeconfig(me.id(), known, jit.issueSessionToken(me, portal.kubeconfigTokenTtl()));
    return ResponseEntity.ok()
        .contentType(MediaType.parseMediaType("application/yaml"))
        .header(
            HttpHeaders.CONTENT_DISPOSITION,
            ContentDisposition.attachment().filename(known + ".kubeconfig.yaml").build().toString())
        .body(yaml);
  }

  @GetMapping("/audit")
  List<AuditView> auditTrail(
      @RequestAttribute(DemoUserFilter.SUBJECT) Subject me, @RequestParam(defaultValue = "100") int limit) {
    if (limit < 1 || limit > RecentAuditEvents.CAPACITY) {
      throw new IllegalArgumentException("limit must be between 1 and " + RecentAuditEvents.CAPACITY + " but was " + limit);
    }
    boolean admin = me.isMemberOf(portal.adminGroup());
    return audit.newest(e -> admin || me.id().equals(e.subjectId()), limit).stream().map(AuditView::of).toList();
  }

  private void requireAdmin(Subject me, String what) {
    if (!me.isMemberOf(portal.adminGroup())) {
      throw new AccessDeniedException(
          "only members of '" + portal.adminGroup() + "' may " + what + "; " + me.id() + " is not");
    }
  }

  /** Parses {@code 30m}, {@code 1h}, {@code PT1H}; null or blank means the engine's default. */
  static Duration duration(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    Duration d;
    try {
      d = DurationStyle.detectAndParse(text.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("duration '" + text + "' is not a duration; write 30m, 1h or PT1H", e);
    }
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("duration must be positive but was " + text);
    }
    return d;
  }
}
