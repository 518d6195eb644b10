// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio;

import dev.domus.xen.testing.StreamCapture;
import dev.domus.xen.testing.XlRunner;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.testing.NetNs;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Root disk on virtio-blk through the whole toolstack ({@code xl create} of a cfg with {@code disk = [...]}, the
 * domain runner, the machine): the guest boots from {@code rootfs.ext4} with its console on virtio-console
 * ({@code hvc1}), writes a file, syncs and powers off; a second boot reads the file back through an interactive
 * console session (virtio-console input), a read-only second disk refuses writes, and the image passes
 * {@code e2fsck -fn} on the host.
 */
class RootDiskIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("domus.it.timeout.seconds", 900));
    private static final String NAME = "virtio-root-it";

    @TempDir
    Path tmp;

    @Test
    void fileWrittenOnFirstBootIsThereOnTheSecondAndTheImageIsClean() throws Exception {
        Path guest = XlDriver.guestDir();
        Path root = tmp.resolve("rootfs.ext4");
        assertThat(new ProcessBuilder("cp", "--sparse=always", guest.resolve("rootfs.ext4").toString(),
                root.toString()).inheritIO().start().waitFor()).isZero();
        Path data = tmp.resolve("data.img");
        try (var f = new java.io.RandomAccessFile(data.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        // Like every virtio IT, the domain runs in a network namespace of its own (no NIC here: nothing to see).
        try (NetNs ns = NetNs.create("disk");
             XlDriver xl = new XlDriver(tmp.resolve("run"), ns.name())) {
            xl.owns(NAME);
            String first = "echo persisted-$((6*7)) > /root/marker; sync; "
                    + "cat /sys/block/vdb/ro; dd if=/dev/zero of=/dev/vdb bs=512 count=1 oflag=direct 2>/dev/null"
                    + " && echo RO-WRITE-OK || echo RO-WRITE-REFUSED\n";
            Path cfg = config(guest, root, data, "domus.run64="
                    + Base64.getEncoder().encodeToString(first.getBytes(StandardCharsets.UTF_8)));
            String out1 = bootWithConsole(xl, cfg, null);
            assertThat(out1).contains("DOMUS-GUEST-READY", "DOMUS-RUN-EXIT=0", "RO-WRITE-REFUSED");
            assertThat(out1).doesNotContain("RO-WRITE-OK");

            Path cfg2 = config(guest, root, data, "");
            String out2 = bootWithConsole(xl, cfg2, "cat /root/marker; poweroff\n");
            assertThat(out2).contains("persisted-42");
        }
        XlRunner.Result fsck = XlDriver.run(Duration.ofMinutes(5), List.of("e2fsck", "-fn", root.toString()),
                Map.of(), null);
        assertThat(fsck.status()).as("e2fsck -fn: %s %s", fsck.out(), fsck.err()).isZero();
        assertThat(Files.readAllBytes(data)).as("read-only disk untouched").containsOnly(0);
    }

    private Path config(Path guest, Path root, Path data, String extra) throws Exception {
        Path cfg = tmp.resolve(NAME + ".cfg");
        Files.writeString(cfg, "name = '" + NAME + "'\nmemory = 256\nvcpus = 1\n"
                + "kernel = '" + guest.resolve("Image") + "'\n"
                + "extra = 'console=hvc1 root=/dev/vda rw " + extra + "'\n"
                + "disk = [ '" + root + ",rw,vda', '" + data + ",ro,vdb' ]\n"
                + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = 'destroy'\n");
        return cfg;
    }

    /**
     * Creates the domain paused, attaches {@code xl console}, unpauses and waits until the domain is gone;
     * {@code input} (if any) is typed once the ready marker appeared. Returns the console output.
     */
    private static String bootWithConsole(XlDriver xl, Path cfg, String input) throws Exception {
        XlRunner.Result create = xl.xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status()).as("xl create: %s", create.err()).isZero();
        Process console = xl.start("console", NAME);
        StreamCapture out = StreamCapture.of(console.getInputStream());
        StreamCapture err = StreamCapture.of(console.getErrorStream());
        assertThat(err.awaitContains("Connected to domain '" + NAME + "'", Duration.ofMinutes(2)))
                .as("xl console attached: %s", err).isTrue();
        assertThat(xl.xl(Duration.ofMinutes(2), "unpause", NAME).status()).isZero();
        if (input != null) {
            assertThat(out.awaitContains("DOMUS-GUEST-READY", TIMEOUT)).as("guest output:%n%s", out).isTrue();
            // The shell starts right after the marker; a prompt ("# ") shows it reads the console.
            assertThat(out.awaitContains("# ", Duration.ofMinutes(2))).as("shell prompt:%n%s", out).isTrue();
            OutputStream in = console.getOutputStream();
            in.write(input.getBytes(StandardCharsets.UTF_8));
            in.flush();
        }
        assertThat(console.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("domain ends:%n%s", out).isTrue();
        return out.toString();
    }
}
