// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.domain.DomainConfig;
import dev.domus.xen.testing.StreamCapture;
import dev.domus.xen.testing.XlRunner;
import dev.domus.xen.testing.XlRunner.Result;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save, checkpoint and restore of a busy guest through the real {@code bin/xl}: a shell loop prints a counter while
 * another loop keeps dirtying tmpfs; after {@code xl save} and {@code xl restore} the counter continues where it
 * stopped. Damaged snapshots are refused by {@code xl restore} and leave no runner behind.
 */
class SaveRestoreIT {
    private static final String NAME = "saverestore-it";
    private static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("domus.it.timeout.seconds", 900));
    private static final Pattern COUNT = Pattern.compile("COUNT=(\\d+)\\r?\\n");

    @TempDir
    Path tmp;

    private final Path repo = XlRunner.repoRoot();
    private XlRunner host;

    @AfterEach
    void cleanUp() throws Exception {
        if (host != null) {
            host.close();
            host.xl(Duration.ofSeconds(60), "destroy", NAME);
            host.close();
        }
    }

    private static int last(StreamCapture c) {
        return XlRunner.last(c, COUNT);
    }

    private StreamCapture attach() throws Exception {
        return host.attachConsole(NAME, Duration.ofMinutes(2));
    }

    @Test
    void busyGuestIsCheckpointedSavedAndRestoredAndItsCounterContinues() throws Exception {
        Map<String, String> env = Map.of("DOMUS_RUN_DIR", tmp.resolve("run").toString(),
                "DOMUS_GUEST_DIR", XlRunner.guestDir().toString());
        host = XlRunner.of(env);
        DomainConfig demo = DomainConfig.load(repo.resolve("deploy/xl/demo.cfg"), env);
        String script = "mkdir -p /tmp/busy; (while true; do dd if=/dev/urandom of=/tmp/busy/f bs=4k count=64 "
                + "2>/dev/null; done) &\n"
                + "i=0; while true; do i=$((i+1)); echo COUNT=$i; sleep 0.2; done\n";
        String run64 = Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        Path cfg = tmp.resolve(NAME + ".cfg");
        Files.writeString(cfg, "name = '" + NAME + "'\nmemory = 128\nvcpus = 1\n"
                + "kernel = '" + demo.kernel() + "'\n"
                + demo.ramdisk().map(r -> "ramdisk = '" + r + "'\n").orElse("")
                + "extra = 'console=ttyS0 domus.run64=" + run64 + "'\n"
                + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = 'destroy'\n");

        Result create = xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status()).as("xl create: %s", create.err()).isZero();
        StreamCapture out = attach();
        assertThat(xl(Duration.ofMinutes(2), "unpause", NAME).status()).isZero();
        assertThat(XlRunner.awaitCount(out, COUNT, 5, TIMEOUT)).as("guest counts:%n%s", out).isTrue();

        // Checkpoint: the file appears and the guest keeps counting.
        Path cp = tmp.resolve("cp.snap");
        Result check = xl(Duration.ofMinutes(5), "save", "--checkpoint", NAME, cp.toString());
        assertThat(check.status()).as("xl save --checkpoint: %s", check.err()).isZero();
        assertThat(check.err()).contains("checkpointed");
        int atCheckpoint = last(out);
        assertThat(XlRunner.awaitCount(out, COUNT, atCheckpoint + 5, Duration.ofMinutes(3)))
                .as("counting after checkpoint:%n%s", out).isTrue();
        assertThat(Files.size(cp)).isGreaterThan(1 << 20).isLessThan(128L << 20);

        // Save: the domain ends.
        Path snap = tmp.resolve("dom.snap");
        Result save = xl(Duration.ofMinutes(5), "save", NAME, snap.toString());
        assertThat(save.status()).as("xl save: %s", save.err()).isZero();
        host.awaitGone(NAME, Duration.ofMinutes(2));
        int atSave = last(out);
        assertThat(atSave).isGreaterThan(atCheckpoint);

        // Restore (paused, so the console is attached before the first line) and the counter continues.
        Result restore = xl(Duration.ofMinutes(5), "restore", "-p", snap.toString());
        assertThat(restore.status()).as("xl restore: %s", restore.err()).isZero();
        StreamCapture after = attach();
        assertThat(xl(Duration.ofMinutes(2), "unpause", NAME).status()).isZero();
        assertThat(XlRunner.awaitCount(after, COUNT, atSave + 5, Duration.ofMinutes(3)))
                .as("after restore (saved at %d):%n%s", atSave, after).isTrue();
        List<Integer> resumed = XlRunner.counts(after.toString(), COUNT);
        assertThat(resumed.getFirst()).as("first count after restore, saved at %d", atSave)
                .isGreaterThan(atSave).isLessThanOrEqualTo(atSave + 2);
        for (int i = 1; i < resumed.size(); i++) {
            assertThat(resumed.get(i)).as("counter step %d", i).isEqualTo(resumed.get(i - 1) + 1);
        }
        Result list = xl(Duration.ofMinutes(1), "list");
        assertThat(list.out()).contains(NAME);
        assertThat(xl(Duration.ofMinutes(1), "destroy", NAME).status()).isZero();
        host.awaitGone(NAME, Duration.ofMinutes(2));

        // Damaged snapshots: each refused with its own clear error, and no runner is left running.
        byte[] good = Files.readAllBytes(snap);
        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("truncated", Arrays.copyOf(good, good.length / 2));
        byte[] flipped = good.clone();
        flipped[good.length - 100] ^= 0x04;
        bad.put("checksum mismatch", flipped);
        byte[] version = good.clone();
        ByteBuffer.wrap(version).putInt(8, 99);
        bad.put("format version 99 is not supported", version);
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).putInt(12, 1 << 20);
        bad.put("section count", huge);
        for (Map.Entry<String, byte[]> e : bad.entrySet()) {
            Path f = tmp.resolve("bad.snap");
            Files.write(f, e.getValue());
            Result r = xl(Duration.ofMinutes(5), "restore", f.toString());
            assertThat(r.status()).as("restore of a %s snapshot: %s", e.getKey(), r.err()).isEqualTo(1);
            assertThat(r.err()).contains("invalid snapshot").contains(e.getKey());
            assertThat(xl(Duration.ofMinutes(1), "list").out()).doesNotContain(NAME);
        }
    }

    private Result xl(Duration timeout, String... args) throws Exception {
        return host.xl(timeout, args);
    }
}
