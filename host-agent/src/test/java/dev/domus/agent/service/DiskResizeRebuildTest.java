// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.agent.infra.StateStore;
import dev.domus.agent.infra.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resize and rebuild on real disks (e2fsprogs): a root disk grows with its file system and keeps its data, never
 * shrinks; a rebuild replaces it with the new image's content only when the new disk is complete, and a missing
 * image leaves the old disk untouched.
 */
class DiskResizeRebuildTest {
    private static final Duration T = Duration.ofMinutes(2);

    @Test
    void growKeepsDataAndGrowsTheFileSystemButNeverShrinks(@TempDir Path tmp) throws Exception {
        DiskBuilder d = builder(tmp);
        VpsRecord r = record(UUID.randomUUID(), "demo");
        Path disk = d.ensureRootDisk(r);
        write(disk, "/root-marker", "customer data\n", tmp);

        d.growRootDisk(r, 2);
        assertThat(Files.size(disk)).isEqualTo(2L << 30);
        assertThat(Tools.runQuietly(T, List.of("e2fsck", "-fn", disk.toString())).status()).isZero();
        String info = Tools.run("x", T, List.of("dumpe2fs", "-h", disk.toString())).output();
        assertThat(field(info, "Block count") * field(info, "Block size")).isEqualTo(2L << 30);
        assertThat(cat(disk, "/root-marker")).isEqualTo("customer data\n");

        VpsRecord grown = r.withShape(2, 512, 2, Optional.of("s-2"), 3);
        d.growRootDisk(grown, 2); // same size: nothing to do
        assertThat(Files.size(disk)).isEqualTo(2L << 30);
        assertThatThrownBy(() -> d.growRootDisk(grown, 1)).isInstanceOf(AgentException.class)
                .hasMessageContaining("only grows");
        assertThat(Files.size(disk)).isEqualTo(2L << 30);
    }

    @Test
    void rebuildReplacesTheDiskOnlyWhenTheNewOneIsComplete(@TempDir Path tmp) throws Exception {
        DiskBuilder d = builder(tmp);
        image(tmp, "other", "from the other image\n");
        VpsRecord r = record(UUID.randomUUID(), "demo");
        Path disk = d.ensureRootDisk(r);
        write(disk, "/root-marker", "old data\n", tmp);

        // A missing image fails before anything is touched.
        assertThatThrownBy(() -> d.replaceRootDisk(r, "missing")).isInstanceOf(AgentException.class)
                .hasMessageContaining("missing");
        assertThat(cat(disk, "/root-marker")).isEqualTo("old data\n");

        Path same = d.replaceRootDisk(r, "other");
        assertThat(same).isEqualTo(disk);
        assertThat(cat(disk, "/etc/motd")).isEqualTo("from the other image\n");
        assertThat(Tools.runQuietly(T, List.of("debugfs", "-R", "stat /root-marker", disk.toString())).output())
                .contains("not found");
        assertThat(Files.size(disk)).isEqualTo(1L << 30);
        assertThat(disk.resolveSibling("root.img.new")).doesNotExist();
    }

    private static void write(Path disk, String path, String content, Path tmp) throws Exception {
        Path f = tmp.resolve("marker.txt");
        Files.writeString(f, content);
        Tools.run("x", T, List.of("debugfs", "-w", "-R", "write " + f + " " + path, disk.toString()));
    }

    private static long field(String dumpe2fs, String name) {
        var m = java.util.regex.Pattern.compile("(?m)^" + name + ":\\s+(\\d+)$").matcher(dumpe2fs);
        assertThat(m.find()).as(name).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String cat(Path img, String file) {
        return Tools.run("x", T, List.of("debugfs", "-R", "cat " + file, img.toString())).output()
                .replaceFirst("^debugfs [^\n]*\n", "");
    }

    private static void image(Path tmp, String name, String motd) throws Exception {
        Path image = tmp.resolve("catalog/" + name);
        Files.createDirectories(image);
        Files.writeString(image.resolve("Image"), "kernel");
        Path tree = tmp.resolve("tree-" + name + "/etc");
        Files.createDirectories(tree);
        Files.writeString(tree.resolve("motd"), motd);
        Tools.run("x", T, List.of("mke2fs", "-q", "-F", "-t", "ext4", "-d", tree.getParent().toString(),
                image.resolve("rootfs.ext4").toString(), "16M"));
    }

    private static DiskBuilder builder(Path tmp) throws Exception {
        image(tmp, "demo", "from the image\n");
        return new DiskBuilder(tmp.resolve("catalog"), new StateStore(tmp.resolve("state")));
    }

    private static VpsRecord record(UUID id, String image) {
        return new VpsRecord(VpsRecord.VERSION, id, "web-1", 1, 256, 1, image, List.of(), "", "10.77.0.11/24",
                "10.77.0.1", VpsRecord.macFor(id), Optional.empty(), Optional.empty(), Optional.empty(), true, 0);
    }
}
