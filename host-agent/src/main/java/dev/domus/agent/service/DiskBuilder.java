// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.agent.infra.SshHostKey;
import dev.domus.agent.infra.StateStore;
import dev.domus.agent.infra.Tools;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Builds a VPS's disks: the root disk and a read-only config drive (small ext4, label {@code domus-cfg}) with
 * hostname, SSH keys, network config, user data, the VPS id and the guest's SSH host key, which the guest init
 * applies at boot (deploy/guest/README.md, "Config drive").
 *
 * <p>Root disks are copies of a per-image, per-size <em>template</em>: the image's {@code rootfs.ext4} grown to the
 * plan's size ({@code truncate}, {@code e2fsck -f}, {@code resize2fs}) once, under
 * {@code <state dir>/templates/}. Checking and resizing cost a second or more per create; a sparse copy of a
 * checked template costs tens of milliseconds, and every VPS still gets its own full copy (no shared blocks
 * unless the file system does copy-on-write reflinks). A template is keyed by the image file's size and mtime,
 * so a replaced image gets a new template, and is renamed into place complete, so a crash never leaves a
 * half-resized one.
 */
@ApplicationScoped
public class DiskBuilder {
    private static final Logger LOG = Logger.getLogger(DiskBuilder.class);
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    /** The guest init's contract: these names on the drive (deploy/guest/init, read_config_drive). */
    static final String HOST_KEY_FILE = "dropbear_ed25519_host_key";

    private final Path catalog;
    private final StateStore store;
    private final ConcurrentHashMap<Path, Object> templateLocks = new ConcurrentHashMap<>();

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

    /** The guest's SSH host key in dropbear format (made once per VPS, kept with its disks). */
    public Path hostKey(VpsRecord r) {
        return store.vpsDir(r.vpsId()).resolve("ssh_host_ed25519_key");
    }

    /** The OpenSSH public line of the guest's host key ({@code ssh-ed25519 AAAA...}), next to the key. */
    public Path hostKeyPublic(VpsRecord r) {
        return store.vpsDir(r.vpsId()).resolve("ssh_host_ed25519_key.pub");
    }

    /** Creates the root disk if it does not exist yet (re-creating would wipe the customer's data). */
    public Path ensureRootDisk(VpsRecord r) {
        Path disk = rootDisk(r);
        if (Files.isRegularFile(disk)) {
            return disk;
        }
        Path src = imageDir(r.image()).resolve("rootfs.ext4");
        long t0 = System.nanoTime();
        Path template = template(r.image(), src, r.diskGb());
        long t1 = System.nanoTime();
        Path tmp = disk.resolveSibling("root.img.tmp");
        try {
            Files.createDirectories(disk.getParent());
            Files.deleteIfExists(tmp);
            copy(template, tmp);
            Files.move(tmp, disk, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot create root disk " + disk + ": " + e, e);
        }
        LOG.infof("event=root_disk_created vps=%s image=%s size_gb=%d template_ms=%d copy_ms=%d", r.vpsId(),
                r.image(), r.diskGb(), (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
        return disk;
    }

    /**
     * Grows the root disk of a stopped VPS to {@code diskGb} (file, then file system); a disk never shrinks (the
     * customer's data may use the space). A no-op when it already has that size; a missing disk is left to the
     * next start, which builds it at the record's (new) size.
     */
    public void growRootDisk(VpsRecord r, int diskGb) {
        if (diskGb < r.diskGb()) {
            throw new AgentException(AgentException.BAD_STATE, "disk_gb " + diskGb + " < " + r.diskGb()
                    + ": a root disk only grows");
        }
        Path disk = rootDisk(r);
        if (!Files.isRegularFile(disk)) {
            return;
        }
        long want = diskGb * 1024L * 1024 * 1024;
        long t0 = System.nanoTime();
        try {
            if (Files.size(disk) >= want) {
                return;
            }
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot read " + disk + ": " + e, e);
        }
        Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("truncate", "-s", Long.toString(want), disk.toString()));
        Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("e2fsck", "-f", "-p", disk.toString()), 1);
        Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("resize2fs", "-f", disk.toString()));
        LOG.infof("event=root_disk_grown vps=%s from_gb=%d to_gb=%d ms=%d", r.vpsId(), r.diskGb(), diskGb,
                (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * A new root disk from {@code image} at the record's size, built next to the old one and renamed over it only
     * when complete: a failure (missing image, full disk) leaves the old disk as it was.
     */
    public Path replaceRootDisk(VpsRecord r, String image) {
        Path disk = rootDisk(r);
        Path src = imageDir(image).resolve("rootfs.ext4");
        long t0 = System.nanoTime();
        Path template = template(image, src, r.diskGb());
        Path fresh = disk.resolveSibling("root.img.new");
        try {
            Files.createDirectories(disk.getParent());
            Files.deleteIfExists(fresh);
            copy(template, fresh);
            Files.move(fresh, disk, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | AgentException e) {
            try {
                Files.deleteIfExists(fresh);
            } catch (IOException ignored) {
                // the next rebuild deletes it first
            }
            throw e instanceof AgentException a ? a
                    : new AgentException(AgentException.DISK, "cannot rebuild root disk " + disk + ": " + e, e);
        }
        LOG.infof("event=root_disk_rebuilt vps=%s image=%s size_gb=%d ms=%d", r.vpsId(), image, r.diskGb(),
                (System.nanoTime() - t0) / 1_000_000);
        return disk;
    }

    /**
     * The checked, resized template of {@code image} for {@code diskGb}, built on first use. Concurrent creates of
     * the same image and size build it once.
     */
    Path template(String image, Path src, int diskGb) {
        long size;
        FileTime mtime;
        try {
            size = Files.size(src);
            mtime = Files.getLastModifiedTime(src);
        } catch (IOException e) {
            throw new AgentException(AgentException.IMAGE, "cannot read image " + src + ": " + e, e);
        }
        Path dir = store.root().resolve("templates");
        String prefix = image + "." + Long.toHexString(size) + "-" + Long.toHexString(mtime.toMillis()) + ".";
        Path template = dir.resolve(prefix + diskGb + "g.ext4");
        if (Files.isRegularFile(template)) {
            return template;
        }
        synchronized (templateLocks.computeIfAbsent(template, t -> new Object())) {
            if (Files.isRegularFile(template)) {
                return template;
            }
            long t0 = System.nanoTime();
            Path tmp = dir.resolve(template.getFileName() + ".tmp");
            try {
                Files.createDirectories(dir);
                removeStaleTemplates(dir, image, prefix);
                Files.deleteIfExists(tmp);
                copy(src, tmp);
                long want = diskGb * 1024L * 1024 * 1024;
                if (Files.size(tmp) < want) {
                    Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("truncate", "-s", Long.toString(want),
                            tmp.toString()));
                    // resize2fs insists on a fresh check; -p repairs only what is safe (status 1 = fixed something).
                    Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("e2fsck", "-f", "-p", tmp.toString()), 1);
                    Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("resize2fs", "-f", tmp.toString()));
                }
                Files.move(tmp, template, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new AgentException(AgentException.DISK, "cannot build disk template " + template + ": " + e, e);
            }
            LOG.infof("event=disk_template_built image=%s size_gb=%d ms=%d path=%s", image, diskGb,
                    (System.nanoTime() - t0) / 1_000_000, template);
            return template;
        }
    }

    /** Templates of an older version of the same image (other size/mtime) are never used again. */
    private static void removeStaleTemplates(Path dir, String image, String currentPrefix) throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(image + ".") && !n.startsWith(currentPrefix) && n.endsWith(".ext4")
                        && n.substring(image.length() + 1).matches("[0-9a-f]+-[0-9a-f]+\\.\\d+g\\.ext4")) {
                    Files.deleteIfExists(p);
                    LOG.infof("event=disk_template_removed path=%s", p);
                }
            }
        }
    }

    /** A sparse copy (holes stay holes), a reflink where the file system offers one. */
    private static void copy(Path from, Path to) {
        Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("cp", "--sparse=always", "--reflink=auto",
                from.toString(), to.toString()));
    }

    /** The guest's host key, made on first use and kept (a stable fingerprint across restarts). */
    public SshHostKey ensureHostKey(VpsRecord r) {
        Path key = hostKey(r);
        try {
            if (Files.isRegularFile(key)) {
                return SshHostKey.fromDropbear(Files.readAllBytes(key));
            }
            Files.createDirectories(key.getParent());
            SshHostKey k = SshHostKey.generate();
            Path tmp = key.resolveSibling(key.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
            Files.write(tmp, k.dropbearPrivate());
            Files.move(tmp, key, StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(hostKeyPublic(r), k.publicLine() + " " + r.hostname() + "\n");
            return k;
        } catch (IOException | IllegalArgumentException e) {
            throw new AgentException(AgentException.DISK, "cannot make the SSH host key " + key + ": " + e, e);
        }
    }

    /**
     * (Re)writes the config drive from the record: it always reflects the current record. The files are owner-only
     * (the drive carries the host's private key); the guest mounts it read-only.
     */
    public Path writeConfigDrive(VpsRecord r) {
        long t0 = System.nanoTime();
        SshHostKey key = ensureHostKey(r);
        Path img = configDrive(r);
        Path tree = store.vpsDir(r.vpsId()).resolve("config.d");
        try {
            deleteTree(tree);
            Files.createDirectories(tree);
            Files.setPosixFilePermissions(tree, OWNER_ONLY_DIR);
            write(tree, "hostname", r.hostname() + "\n");
            write(tree, "authorized_keys", r.sshKeys().isEmpty() ? "" : String.join("\n", r.sshKeys()) + "\n");
            write(tree, "network", "address=" + r.ip() + "\ngateway=" + r.gateway() + "\nmac=" + r.mac() + "\n");
            write(tree, "user-data", r.userData());
            write(tree, "vps-id", r.vpsId() + "\n");
            Path k = tree.resolve(HOST_KEY_FILE);
            Files.createFile(k, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
            Files.write(k, key.dropbearPrivate());
            Files.deleteIfExists(img);
            Tools.run(AgentException.DISK, TOOL_TIMEOUT, List.of("mke2fs", "-q", "-F", "-t", "ext4", "-L",
                    "domus-cfg", "-d", tree.toString(), img.toString(), "4M"));
            deleteTree(tree);
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot write config drive " + img + ": " + e, e);
        }
        LOG.infof("event=config_drive_written vps=%s ms=%d", r.vpsId(), (System.nanoTime() - t0) / 1_000_000);
        return img;
    }

    private static void write(Path dir, String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.createFile(f, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
        Files.writeString(f, content);
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
