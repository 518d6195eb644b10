// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.internal.model.DesiredState;
import dev.domus.api.internal.model.DesiredVps;
import dev.domus.api.internal.server.InternalHostsApi;
import dev.domus.cp.service.DesiredStateService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/** Internal API for host agents ({@code api-spec/internal-openapi.yaml}, issue 8), served under {@code /internal}. */
@Authenticated
public class InternalHostsResource implements InternalHostsApi {
    @Inject
    CurrentCaller current;
    @Inject
    DesiredStateService desired;

    @Override
    public jakarta.ws.rs.core.Response getDesiredState(UUID hostId) {
        DesiredState s = new DesiredState().hostId(hostId).generatedAt(OffsetDateTime.now(ZoneOffset.UTC));
        DesiredStateService.Desired d = desired.desired(current.get(), hostId);
        for (DesiredStateService.DesiredVps v : d.vps()) {
            s.addVpsItem(new DesiredVps().vpsId(v.vpsId()).organizationId(v.organizationId()).projectId(v.projectId())
                    .name(v.name()).plan(v.plan().orElse(null)).vcpus(v.vcpus()).memoryMb(v.memoryMb())
                    .diskGb(v.diskGb()).image(v.image()).sshKeys(v.sshKeys()).userData(v.userData())
                    .power(v.powerOn() ? DesiredVps.PowerEnum.ON : DesiredVps.PowerEnum.OFF).epoch(v.epoch())
                    .ip(v.ip().orElse(null)));
        }
        s.deleted(new java.util.ArrayList<>(d.deleted()));
        return Responses.ok(s);
    }
}
