// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.agent.domain.VpsRecord;
import dev.domus.agent.infra.SshHostKey;
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

/** Real e2fsprogs on small images: templates, root disk copies and the config drive's content. */
class DiskBuilderTest {
    private static final Duration T = Duration.ofMinutes(2);

    @Test
    void rootDisksAreCopiesOfOneCheckedResizedTemplate(@TempDir Path tmp) throws Exception {
        DiskBuilder d = builder(tmp);
        VpsRecord a = record(UUID.randomUUID());
        VpsRecord b = record(UUID.randomUUID());
        Path diskA = d.ensureRootDisk(a);
        Path templates = tmp.resolve("state/templates");
        List<Path> built = list(templates);
        assertThat(built).hasSize(1);
        long templateMtime = Files.getLastModifiedTime(built.getFirst()).toMillis();
        Path diskB = d.ensureRootDisk(b);
        assertThat(list(templates)).containsExactlyElementsOf(built);
        assertThat(Files.getLastModifiedTime(built.getFirst()).toMillis()).as("template reused").isEqualTo(templateMtime);
        for (Path disk : List.of(diskA, diskB)) {
            assertThat(Files.size(disk)).isEqualTo(1L << 30);
            assertThat(Tools.runQuietly(T, List.of("e2fsck", "-fn", disk.toString())).status()).isZero();
            String info = Tools.run("x", T, List.of("dumpe2fs", "-h", disk.toString())).output();
            assertThat(field(info, "Block count") * field(info, "Block size")).as("file system grown to the disk")
                    .isEqualTo(1L << 30);
            assertThat(Tools.run("x", T, List.of("debugfs", "-R", "cat /etc/motd", disk.toString())).output())
                    .contains("from the image");
        }
        assertThat(diskA).isNotEqualTo(diskB);
        // The customer's disk is never recreated.
        Files.writeString(diskA, "data", java.nio.file.StandardOpenOption.APPEND);
        long size = Files.size(diskA);
        d.ensureRootDisk(a);
        assertThat(Files.size(diskA)).isEqualTo(size);
    }

    @Test
    void aReplacedImageGetsANewTemplateAndTheOldOneGoes(@TempDir Path tmp) throws Exception {
        DiskBuilder d = builder(tmp);
        d.ensureRootDisk(record(UUID.randomUUID()));
        Path templates = tmp.resolve("state/templates");
        Path old = list(templates).getFirst();
        Path image = tmp.resolve("catalog/demo/rootfs.ext4");
        Files.setLastModifiedTime(image, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(image).toMillis() + 60_000));
        d.ensureRootDisk(record(UUID.randomUUID()));
        assertThat(list(templates)).hasSize(1).doesNotContain(old);
    }

    @Test
    void configDriveCarriesEverythingOwnerOnlyWithAStableHostKey(@TempDir Path tmp) throws Exception {
        DiskBuilder d = builder(tmp);
        UUID id = UUID.randomUUID();
        VpsRecord r = new VpsRecord(VpsRecord.VERSION, id, "web-7", 1, 256, 1, "demo",
                List.of("ssh-ed25519 AAAA one", "ssh-rsa BBBB two"), "#!/bin/sh\necho hi\n", "10.77.0.11/24",
                "10.77.0.1", VpsRecord.macFor(id), Optional.empty(), Optional.empty(), Optional.empty(), true, 0);
        Path img = d.writeConfigDrive(r);
        assertThat(Tools.runQuietly(T, List.of("e2fsck", "-fn", img.toString())).status()).isZero();
        assertThat(Tools.run("x", T, List.of("e2label", img.toString())).output().strip()).isEqualTo("domus-cfg");
        assertThat(cat(img, "hostname")).isEqualTo("web-7\n");
        assertThat(cat(img, "authorized_keys")).isEqualTo("ssh-ed25519 AAAA one\nssh-rsa BBBB two\n");
        assertThat(cat(img, "network")).contains("address=10.77.0.11/24\n", "gateway=10.77.0.1\n");
        assertThat(cat(img, "user-data")).isEqualTo("#!/bin/sh\necho hi\n");
        assertThat(cat(img, "vps-id")).isEqualTo(id + "\n");
        String stat = Tools.run("x", T, List.of("debugfs", "-R", "stat /dropbear_ed25519_host_key", img.toString()))
                .output();
        assertThat(stat).contains("Mode:  0600");
        SshHostKey key = SshHostKey.fromDropbear(Files.readAllBytes(d.hostKey(r)));
        assertThat(Files.readString(d.hostKeyPublic(r))).startsWith(key.publicLine());
        // Rewritten on the next start: same host key, so the fingerprint a customer accepted stays valid.
        d.writeConfigDrive(r);
        assertThat(SshHostKey.fromDropbear(Files.readAllBytes(d.hostKey(r)))).isEqualTo(key);
        assertThat(Files.exists(tmp.resolve("state/vps/" + id + "/config.d"))).isFalse();
    }

    private static long field(String dumpe2fs, String name) {
        var m = java.util.regex.Pattern.compile("(?m)^" + name + ":\\s+(\\d+)$").matcher(dumpe2fs);
        assertThat(m.find()).as(name).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String cat(Path img, String file) {
        return Tools.run("x", T, List.of("debugfs", "-R", "cat /" + file, img.toString())).output()
                .replaceFirst("^debugfs [^\n]*\n", "");
    }

    private static DiskBuilder builder(Path tmp) throws Exception {
        Path image = tmp.resolve("catalog/demo");
        Files.createDirectories(image);
        Files.writeString(image.resolve("Image"), "kernel");
        Path tree = tmp.resolve("tree/etc");
        Files.createDirectories(tree);
        Files.writeString(tree.resolve("motd"), "from the image\n");
        Tools.run("x", T, List.of("mke2fs", "-q", "-F", "-t", "ext4", "-d", tmp.resolve("tree").toString(),
                image.resolve("rootfs.ext4").toString(), "16M"));
        return new DiskBuilder(tmp.resolve("catalog"), new StateStore(tmp.resolve("state")));
    }

    private static VpsRecord record(UUID id) {
        return new VpsRecord(VpsRecord.VERSION, id, "web-1", 1, 256, 1, "demo", List.of(), "", "10.77.0.11/24",
                "10.77.0.1", VpsRecord.macFor(id), Optional.empty(), Optional.empty(), Optional.empty(), true, 0);
    }

    private static List<Path> list(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
