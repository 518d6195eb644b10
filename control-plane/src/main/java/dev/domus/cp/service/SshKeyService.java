// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.Ids;
import dev.domus.cp.domain.Labels;
import dev.domus.cp.domain.Role;
import dev.domus.cp.domain.Scope;
import dev.domus.cp.domain.SshKeyEntity;
import dev.domus.cp.domain.SshPublicKey;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** SSH public keys of a project, validated and fingerprinted like OpenSSH does. */
@ApplicationScoped
public class SshKeyService {
    @Inject
    Access access;

    @Transactional
    public SshKeyEntity create(Caller caller, UUID projectId, String name, String publicKey, Map<String, String> labels) {
        access.requireProject(caller, projectId, Role.MEMBER, Scope.WRITE);
        SshPublicKey key = SshPublicKey.parse(publicKey);
        Map<String, String> l = Labels.validate("labels", labels);
        if (SshKeyEntity.count("projectId = ?1 and fingerprint = ?2", projectId, key.fingerprint()) > 0) {
            throw DomusException.conflict("already_exists", "key " + key.fingerprint() + " is already registered");
        }
        SshKeyEntity k = new SshKeyEntity();
        k.id = Ids.next();
        k.projectId = projectId;
        k.name = name;
        k.type = key.type();
        k.bits = key.bits();
        k.fingerprint = key.fingerprint();
        k.publicKey = key.normalized();
        k.labels = l;
        k.createdAt = UserService.now();
        k.persist();
        Access.resource("ssh_key", k.id);
        return k;
    }

    public Page<SshKeyEntity> list(Caller caller, UUID projectId, Optional<UUID> after, int size) {
        access.requireProject(caller, projectId, Role.VIEWER, Scope.READ);
        var q = after.isPresent()
                ? SshKeyEntity.<SshKeyEntity>find("projectId = ?1 and id > ?2", Sort.by("id"), projectId, after.get())
                : SshKeyEntity.<SshKeyEntity>find("projectId = ?1", Sort.by("id"), projectId);
        return Page.of(q.range(0, size).list(), size, k -> k.id);
    }

    public SshKeyEntity get(Caller caller, UUID id) {
        SshKeyEntity k = SshKeyEntity.findById(id);
        if (k == null) {
            throw DomusException.notFound("ssh_key", id);
        }
        access.requireResource(caller, "ssh_key", id, k.projectId, Role.VIEWER, Scope.READ);
        return k;
    }

    @Transactional
    public void delete(Caller caller, UUID id) {
        SshKeyEntity k = SshKeyEntity.findById(id);
        if (k == null) {
            throw DomusException.notFound("ssh_key", id);
        }
        access.requireResource(caller, "ssh_key", id, k.projectId, Role.MEMBER, Scope.WRITE);
        k.delete();
    }
}
