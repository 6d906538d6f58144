package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import io.kubernetes.client.openapi.ApiClient;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind {@code KubernetesAccountProvisioner}: checks a grant, then makes the cluster match it
 * with as few calls as possible.
 *
 * <p>Order matters for crash safety: the ServiceAccount (the labelled, annotated owner record) is created
 * before any binding, and every binding is labelled at creation, so a failure part-way never leaves a
 * binding the sweeper cannot attribute. What was applied for each subject is remembered in memory (grant id,
 * permission set, last {@code expires-at} write, token) so that re-ensuring an unchanged grant costs no call
 * except the {@code expires-at} refresh at most once a minute. Any failure forgets the subject, so the next
 * call reconciles from the cluster again. Thread-safe: calls for one subject are serialized by a striped lock.
 */
public final class AccountReconciler {
  private static final Logger log = LoggerFactory.getLogger(AccountReconciler.class);

  private final ProvisionerConfig config;
  private final ServiceAccounts accounts;
  private final Bindings bindings;
  private final Map<String, AccountState> states = new ConcurrentHashMap<>();
  private final ReentrantLock[] locks = new ReentrantLock[64];

  /**
   * Creates the engine.
   *
   * @param client the Kubernetes client
   * @param config validated settings
   * @param sleeper how retries wait
   */
  public AccountReconciler(ApiClient client, ProvisionerConfig config, Sleeper sleeper) {
    this.config = config;
    KubeCalls calls = new KubeCalls(config.retry(), sleeper);
    this.accounts = new ServiceAccounts(client, calls, config.namespace(), 500);
    this.bindings = new Bindings(client, calls, 500, ConcurrentCalls.newPool());
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new ReentrantLock();
    }
  }

  /**
   * Makes the subject's account match the grant and returns a valid token.
   *
   * @throws ProvisioningException if the grant is unsafe (before any call) or the cluster failed
   */
  public ProvisionedAccount ensure(Grant grant) {
    Objects.requireNonNull(grant, "grant");
    Set<Permission> permissions = checkedPermissions(grant);
    String subjectId = grant.subject().id();
    String hash = Names.subjectHash(subjectId);
    Bindings.Owner owner =
        new Bindings.Owner(subjectId, hash, config.namespace(), Names.serviceAccount(hash));
    Map<String, Permission> desired = new LinkedHashMap<>();
    for (Permission permission : permissions) {
      desired.put(key(permission.namespace(), Names.binding(hash, permission)), permission);
    }
    ReentrantLock lock = lockFor(hash);
    lock.lock();
    try {
      return ensureLocked(grant, owner, permissions, desired);
    } catch (RuntimeException e) {
      states.remove(hash);
      throw e;
    } finally {
      lock.unlock();
    }
  }

  private ProvisionedAccount ensureLocked(
      Grant grant, Bindings.Owner owner, Set<Permission> permissions, Map<String, Permission> desired) {
    Instant now = config.clock().instant();
    String hash = owner.subjectHash();
    AccountState state = states.get(hash);
    if (state == null || !state.permissions().equals(permissions)) {
      reconcile(grant, owner, desired, state != null, now);
      state = new AccountState(grant.id(), permissions, now, state == null ? null : state.token());
    } else if (!state.grantId().equals(grant.id())
        || !now.isBefore(state.lastRefresh().plus(ProvisionerConfig.EXPIRY_REFRESH_INTERVAL))) {
      if (accounts.patchAnnotations(owner.serviceAccount(), annotations(grant, now))) {
        state = new AccountState(grant.id(), permissions, now, state.token());
      } else {
        log.info("ServiceAccount {} disappeared; provisioning it again", owner.serviceAccount());
        reconcile(grant, owner, desired, false, now);
        state = new AccountState(grant.id(), permissions, now, null);
      }
    }
    IssuedToken token = state.token();
    if (token == null || token.needsRefresh(now)) {
      token =
          accounts.requestToken(
              owner.serviceAccount(), config.tokenTtl(), config.tokenAudiences(), now);
      state = new AccountState(state.grantId(), permissions, state.lastRefresh(), token);
      log.debug(
          "Issued a token for ServiceAccount {} valid until {}", owner.serviceAccount(), token.expiresAt());
    }
    states.put(hash, state);
    return new ProvisionedAccount(
        config.namespace(), owner.serviceAccount(), token.token(), token.expiresAt());
  }

  /** Brings the account and its bindings in line with the grant: owner first, narrowing before widening. */
  private void reconcile(
      Grant grant,
      Bindings.Owner owner,
      Map<String, Permission> desired,
      boolean accountKnown,
      Instant now) {
    Map<String, String> annotations = annotations(grant, now);
    // For an account not known here (a first request), the bindings are listed while the ServiceAccount is
    // created: a read changes nothing, and every write below still comes after the owner exists.
    CompletableFuture<List<BindingRef>> listed = accountKnown ? null : bindings.listLater(owner.selector());
    try {
      if (!accountKnown || !accounts.patchAnnotations(owner.serviceAccount(), annotations)) {
        accounts.createOrAdopt(owner, annotations);
      }
    } catch (RuntimeException e) {
      if (listed != null) {
        ConcurrentCalls.awaitQuietly(listed); // never leave a call running behind a failure
      }
      throw e;
    }
    List<BindingRef> existingBindings =
        listed != null ? ConcurrentCalls.join(listed) : bindings.list(owner.selector());
    Set<String> present = new LinkedHashSet<>();
    for (BindingRef existing : existingBindings) {
      String key = key(existing.namespace(), existing.name());
      Permission wanted = desired.get(key);
      if (wanted != null
          && existing.isOwnedBy(owner.subjectId())
          && existing.bindsExactly(wanted.clusterRole(), owner.namespace(), owner.serviceAccount())) {
        present.add(key);
      } else if (!existing.bindsOnlyJitAccounts(owner.namespace())) {
        log.warn(
            "Not deleting {}: it carries jit-access labels but binds subjects outside {}",
            existing.displayName(),
            owner.namespace());
      } else if (bindings.delete(existing)) {
        log.info("Deleted {} of ServiceAccount {}", existing.displayName(), owner.serviceAccount());
      }
    }
    for (Map.Entry<String, Permission> entry : desired.entrySet()) {
      if (!present.contains(entry.getKey())) {
        Permission permission = entry.getValue();
        bindings.createOrAdopt(owner, Names.binding(owner.subjectHash(), permission), permission);
      }
    }
    log.info(
        "Provisioned ServiceAccount {}/{} for grant {} with {}",
        owner.namespace(),
        owner.serviceAccount(),
        grant.id(),
        desired.values());
  }

  /**
   * Deletes the subject's ServiceAccount (invalidating its tokens at once) and then its bindings; absent
   * objects are fine. Forgets the subject first, so a failure leaves nothing cached.
   *
   * @throws ProvisioningException if the cluster failed
   */
  public void remove(String subjectId) {
    String id = Objects.requireNonNull(subjectId, "subjectId").strip();
    if (id.isEmpty()) {
      throw new IllegalArgumentException("subjectId must not be blank");
    }
    String hash = Names.subjectHash(id);
    Bindings.Owner owner = new Bindings.Owner(id, hash, config.namespace(), Names.serviceAccount(hash));
    ReentrantLock lock = lockFor(hash);
    lock.lock();
    try {
      states.remove(hash);
      boolean deleted = accounts.delete(owner.serviceAccount());
      List<BindingRef> leftovers = bindings.list(owner.selector());
      for (BindingRef binding : leftovers) {
        bindings.delete(binding);
      }
      if (deleted || !leftovers.isEmpty()) {
        log.info(
            "Removed ServiceAccount {}/{} and {} binding(s)",
            owner.namespace(),
            owner.serviceAccount(),
            leftovers.size());
      }
    } finally {
      lock.unlock();
    }
  }

  private Set<Permission> checkedPermissions(Grant grant) {
    Set<Permission> permissions = new LinkedHashSet<>();
    for (Permission permission : grant.permissions()) {
      if (!config.allowedClusterRoles().contains(permission.clusterRole())) {
        throw refused(
            "ClusterRole '"
                + permission.clusterRole()
                + "' of grant "
                + grant.id()
                + " is not in allowedClusterRoles "
                + config.allowedClusterRoles()
                + "; add it to the agent's allow-list (and to the bind resourceNames of its RBAC) to grant it");
      }
      String ns = permission.namespace();
      if (ns != null && ns.equals(config.namespace())) {
        throw refused(
            "Namespace '"
                + ns
                + "' of grant "
                + grant.id()
                + " is the agent's own: every user's ServiceAccount and the revocations live there, so a role"
                + " in it could act as other users; jit-access never binds roles there");
      }
      if (ns != null && (config.deniedNamespaces().contains(ns) || !Names.isDnsLabel(ns))) {
        throw refused(
            "Namespace '"
                + ns
                + "' of grant "
                + grant.id()
                + " is denied (deniedNamespaces "
                + config.deniedNamespaces()
                + "); jit-access never binds roles there");
      }
      permissions.add(permission);
    }
    return Set.copyOf(permissions);
  }

  private Map<String, String> annotations(Grant grant, Instant now) {
    return Map.of(
        Names.SUBJECT_ANNOTATION,
        grant.subject().id(),
        Names.GRANT_ID_ANNOTATION,
        grant.id(),
        Names.EXPIRES_AT_ANNOTATION,
        now.plus(config.idleTimeout()).toString());
  }

  private static ProvisioningException refused(String message) {
    return new ProvisioningException(message, 0, false, null);
  }

  private static String key(@Nullable String namespace, String name) {
    return namespace == null ? "clusterrolebinding/" + name : "rolebinding/" + namespace + "/" + name;
  }

  private ReentrantLock lockFor(String hash) {
    return locks[Math.floorMod(hash.hashCode(), locks.length)];
  }

  /** What was last applied for one subject. */
  private record AccountState(
      String grantId, Set<Permission> permissions, Instant lastRefresh, @Nullable IssuedToken token) {}
}
