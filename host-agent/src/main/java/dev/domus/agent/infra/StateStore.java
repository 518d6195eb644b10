// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.infra;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsRecord;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Durable agent state under {@code <state dir>}: {@code vps/<id>/record.json} (the VPS record), the VPS's disks
 * next to it, and {@code agent.json} (applied command ids and the highest epoch seen). Writes go to a temporary file
 * and are renamed, so a kill -9 mid-write leaves the previous version.
 */
@ApplicationScoped
public class StateStore {
    private static final Logger LOG = Logger.getLogger(StateStore.class);

    private final ObjectMapper json = new ObjectMapper().findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private final Path root;

    @Inject
    public StateStore(AgentConfig config) {
        this(config.stateDir());
    }

    public StateStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.root.resolve("vps"));
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot create state dir " + this.root + ": " + e, e);
        }
    }

    public Path root() {
        return root;
    }

    /** The directory of one VPS (record, root disk, config drive, domain config). */
    public Path vpsDir(UUID vpsId) {
        return root.resolve("vps").resolve(vpsId.toString());
    }

    public void save(VpsRecord r) {
        Path dir = vpsDir(r.vpsId());
        try {
            Files.createDirectories(dir);
            writeAtomically(dir.resolve("record.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(r));
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot save VPS " + r.vpsId() + ": " + e, e);
        }
    }

    public Optional<VpsRecord> load(UUID vpsId) {
        Path f = vpsDir(vpsId).resolve("record.json");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(json.readValue(f.toFile(), VpsRecord.class));
        } catch (IOException | RuntimeException e) {
            LOG.warnf("event=vps_record_unreadable path=%s error=%s", f, e.getMessage());
            return Optional.empty();
        }
    }

    /** Every readable VPS record; unreadable ones are logged and skipped. */
    public List<VpsRecord> all() {
        List<VpsRecord> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root.resolve("vps"))) {
            for (Path d : ds) {
                try {
                    load(UUID.fromString(d.getFileName().toString())).ifPresent(out::add);
                } catch (IllegalArgumentException e) {
                    LOG.warnf("event=stray_state_dir path=%s", d);
                }
            }
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot list " + root + ": " + e, e);
        }
        return out;
    }

    /** Removes the VPS's directory with its disks. */
    public void delete(UUID vpsId) {
        Path dir = vpsDir(vpsId);
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot delete " + dir + ": " + e, e);
        }
    }

    /**
     * Agent-wide durable data: applied command ids and deleted VPS ids (both bounded), so a re-delivered or late
     * create cannot bring back a deleted VPS.
     */
    public record AgentState(List<UUID> appliedCommands, List<UUID> deletedVps) {
        public AgentState {
            appliedCommands = List.copyOf(appliedCommands == null ? List.of() : appliedCommands);
            deletedVps = List.copyOf(deletedVps == null ? List.of() : deletedVps);
        }
    }

    public AgentState agentState() {
        Path f = root.resolve("agent.json");
        if (!Files.isRegularFile(f)) {
            return new AgentState(List.of(), List.of());
        }
        try {
            return json.readValue(f.toFile(), AgentState.class);
        } catch (IOException e) {
            LOG.warnf("event=agent_state_unreadable path=%s error=%s", f, e.getMessage());
            return new AgentState(List.of(), List.of());
        }
    }

    public void saveAgentState(AgentState s) {
        try {
            writeAtomically(root.resolve("agent.json"), json.writeValueAsBytes(s));
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot save agent state: " + e, e);
        }
    }

    private static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
