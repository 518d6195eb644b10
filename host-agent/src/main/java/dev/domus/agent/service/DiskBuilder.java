// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.agent.infra.StateStore;
import dev.domus.agent.infra.Tools;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Builds a VPS's disks: the root disk as a sparse copy of the image's {@code rootfs.ext4} grown to the plan's size
 * ({@code truncate} + {@code resize2fs}), and a read-only config drive (small ext4, label {@code domus-cfg}) with
 * hostname, SSH keys, network config and user data. The guest init applies the same values from the kernel
 * command line today; the drive is the durable copy for images whose init reads it.
 */
@ApplicationScoped
public class DiskBuilder {
    private static final Logger LOG = Logger.getLogger(DiskBuilder.class);
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);

    private final Path catalog;
    private final StateStore store;

    @Inject
    public DiskBuilder(AgentConfig config, StateStore store) {
        this(config.guestDir(), store);
    }

    public DiskBuilder(Path catalog, StateStore store) {
        this.catalog = catalog;
        this.store = store;
    }

    /** The image directory of {@code image}: {@code <guest dir>/<image>/} with {@code Image} and {@code rootfs.ext4}. */
    public Path imageDir(String image) {
        Path dir = catalog.resolve(image);
        if (!Files.isRegularFile(dir.resolve("Image")) || !Files.isRegularFile(dir.resolve("rootfs.ext4"))) {
            throw new AgentException(AgentException.IMAGE, "image '" + image + "' not found: " + dir
                    + " needs Image and rootfs.ext4");
        }
        return dir;
    }

    public Path rootDisk(VpsRecord r) {
        return store.vpsDir(r.vpsId()).resolve("root.img");
    }

    public Path configDrive(VpsRecord r) {
        return store.vpsDir(r.vpsId()).resolve("config.img");
    }

    /** Creates the root disk if it does not exist yet (re-creating would wipe the customer's data). */
    public Path ensureRootDisk(VpsRecord r) {
        Path disk = rootDisk(r);
        if (Files.isRegularFile(disk)) {
            return disk;
        }
        Path src = imageDir(r.image()).resolve("rootfs.ext4");
        Path tmp = disk.resolveSibling("root.img.tmp");
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(disk.getParent());
            Files.deleteIfExists(tmp);
            Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("cp", "--sparse=always", src.toString(), tmp.toString()));
            long want = r.diskGb() * 1024L * 1024 * 1024;
            if (Files.size(tmp) < want) {
                Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("truncate", "-s", Long.toString(want), tmp.toString()));
                // resize2fs insists on a fresh check; -p repairs only what is safe (status 1 = fixed something).
                Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("e2fsck", "-f", "-p", tmp.toString()), 1);
                Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("resize2fs", "-f", tmp.toString()));
            }
            Files.move(tmp, disk, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot create root disk " + disk + ": " + e, e);
        }
        LOG.infof("event=root_disk_created vps=%s image=%s size_gb=%d ms=%d", r.vpsId(), r.image(), r.diskGb(),
                (System.nanoTime() - t0) / 1_000_000);
        return disk;
    }

    /** (Re)writes the config drive from the record: it always reflects the current record. */
    public Path writeConfigDrive(VpsRecord r) {
        Path img = configDrive(r);
        Path tree = store.vpsDir(r.vpsId()).resolve("config.d");
        try {
            deleteTree(tree);
            Files.createDirectories(tree);
            Files.writeString(tree.resolve("hostname"), r.hostname() + "\n");
            Files.writeString(tree.resolve("authorized_keys"), String.join("\n", r.sshKeys()) + "\n");
            Files.writeString(tree.resolve("network"), "address=" + r.ip() + "\ngateway=" + r.gateway() + "\nmac="
                    + r.mac() + "\n");
            Files.writeString(tree.resolve("user-data"), r.userData());
            Files.writeString(tree.resolve("vps-id"), r.vpsId() + "\n");
            Files.deleteIfExists(img);
            Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("mke2fs", "-q", "-F", "-t", "ext4", "-L",
                    "domus-cfg", "-d", tree.toString(), img.toString(), "4M"));
            deleteTree(tree);
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot write config drive " + img + ": " + e, e);
        }
        return img;
    }

    /** Kernel command-line parameters of the guest init contract (deploy/guest/README.md). */
    public static String initParameters(VpsRecord r) {
        StringBuilder sb = new StringBuilder();
        sb.append("domus.hostname=").append(r.hostname());
        sb.append(" domus.ip=").append(r.ip()).append(" domus.gw=").append(r.gateway());
        if (!r.sshKeys().isEmpty()) {
            // The init contract takes one key line; the first is the one the customer chose at create time.
            sb.append(" domus.sshkey64=").append(Base64.getEncoder().encodeToString(
                    r.sshKeys().getFirst().strip().getBytes(StandardCharsets.UTF_8)));
        }
        return sb.toString();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
