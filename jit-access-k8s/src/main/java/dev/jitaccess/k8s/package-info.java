/**
 * Just-in-time ServiceAccounts in a Kubernetes cluster: {@link dev.jitaccess.k8s.KubernetesAccountProvisioner},
 * forwarding to kube-apiserver, and the idle sweeper. Built on the official Kubernetes Java client.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.jitaccess.k8s;

import org.jspecify.annotations.NullMarked;
