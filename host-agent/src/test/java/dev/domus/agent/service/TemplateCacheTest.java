// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TemplateCacheTest {
    @TempDir
    Path dir;

    private TemplateCache cache;

    @AfterEach
    void close() {
        if (cache != null) {
            cache.close();
        }
    }

    private static TemplateKey key(String image, int mem, String imageSum, String runnerSum) {
        return new TemplateKey(image, imageSum, mem, 1, 1, "console=hvc1", runnerSum);
    }

    private static void built(Optional<Future<?>> f) throws Exception {
        assertThat(f).as("a build was queued").isPresent();
        f.get().get(10, TimeUnit.SECONDS);
    }

    private static final TemplateCache.Builder WRITES = (k, out) -> Files.writeString(out, "snapshot of " + k.id());

    @Test
    void keyCoversEveryInput() {
        TemplateKey base = new TemplateKey("demo", "i1", 256, 1, 1, "console=hvc1", "r1");
        List<TemplateKey> others = List.of(
                new TemplateKey("demo2", "i1", 256, 1, 1, "console=hvc1", "r1"),
                new TemplateKey("demo", "i2", 256, 1, 1, "console=hvc1", "r1"),
                new TemplateKey("demo", "i1", 512, 1, 1, "console=hvc1", "r1"),
                new TemplateKey("demo", "i1", 256, 2, 1, "console=hvc1", "r1"),
                new TemplateKey("demo", "i1", 256, 1, 2, "console=hvc1", "r1"),
                new TemplateKey("demo", "i1", 256, 1, 1, "console=ttyS0", "r1"),
                new TemplateKey("demo", "i1", 256, 1, 1, "console=hvc1", "r2"));
        for (TemplateKey o : others) {
            assertThat(o.id()).as("%s vs %s", o, base).isNotEqualTo(base.id());
            assertThat(o.fileName()).isNotEqualTo(base.fileName());
        }
        assertThat(base.id()).isEqualTo(new TemplateKey("demo", "i1", 256, 1, 1, "console=hvc1", "r1").id())
                .matches("[0-9a-f]{20}");
        assertThat(base.fileName()).isEqualTo("demo.256m1c1g." + base.id() + ".snap");
        assertThatThrownBy(() -> new TemplateKey("../x", "i", 1, 1, 1, "c", "r"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void buildsOnceThenServesTheCompleteFile() throws Exception {
        cache = new TemplateCache(dir, 4);
        TemplateKey k = key("demo", 256, "i1", "r1");
        assertThat(cache.lookup(k)).isEmpty();
        AtomicInteger builds = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        Optional<Future<?>> f = cache.requestBuild(k, (key, out) -> {
            builds.incrementAndGet();
            release.await();
            WRITES.build(key, out);
        });
        assertThat(f).isPresent();
        // While building: not served, and not queued a second time.
        assertThat(cache.isBuilding(k)).isTrue();
        assertThat(cache.requestBuild(k, WRITES)).isEmpty();
        assertThat(cache.lookup(k)).isEmpty();
        release.countDown();
        f.get().get(10, TimeUnit.SECONDS);
        assertThat(builds).hasValue(1);
        assertThat(cache.isBuilding(k)).isFalse();
        Path snap = cache.lookup(k).orElseThrow();
        assertThat(Files.readString(snap)).isEqualTo("snapshot of " + k.id());
        assertThat(cache.requestBuild(k, WRITES)).as("exists: nothing to build").isEmpty();
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly(k.fileName());
        }
    }

    @Test
    void aFailedOrEmptyBuildLeavesNothingBehind() throws Exception {
        cache = new TemplateCache(dir, 4);
        TemplateKey k = key("demo", 256, "i1", "r1");
        built(cache.requestBuild(k, (key, out) -> {
            Files.writeString(out, "half");
            throw new IOException("guest never printed the marker");
        }));
        assertThat(cache.lookup(k)).isEmpty();
        built(cache.requestBuild(k, (key, out) -> Files.createFile(out)));
        assertThat(cache.lookup(k)).as("an empty file is not a snapshot").isEmpty();
        try (var s = Files.list(dir)) {
            assertThat(s.toList()).isEmpty();
        }
        // and the key can be built again afterwards
        built(cache.requestBuild(k, WRITES));
        assertThat(cache.lookup(k)).isPresent();
    }

    @Test
    void partialFilesOfAnInterruptedBuildAreRemovedOnOpen() throws Exception {
        TemplateKey k = key("demo", 256, "i1", "r1");
        Files.writeString(dir.resolve(k.fileName() + ".tmp-1234"), "half-written");
        cache = new TemplateCache(dir, 4);
        assertThat(cache.lookup(k)).isEmpty();
        try (var s = Files.list(dir)) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void leastRecentlyUsedIsEvictedBeyondTheBound() throws Exception {
        cache = new TemplateCache(dir, 2);
        TemplateKey a = key("a", 256, "i", "r");
        TemplateKey b = key("b", 256, "i", "r");
        TemplateKey c = key("c", 256, "i", "r");
        built(cache.requestBuild(a, WRITES));
        built(cache.requestBuild(b, WRITES));
        // a was built first but used last: b is the least recently used.
        Files.setLastModifiedTime(dir.resolve(b.fileName()), FileTime.from(Instant.now().minusSeconds(60)));
        Files.setLastModifiedTime(dir.resolve(a.fileName()), FileTime.from(Instant.now().minusSeconds(120)));
        assertThat(cache.lookup(a)).isPresent(); // touches a
        built(cache.requestBuild(c, WRITES));
        assertThat(cache.lookup(b)).isEmpty();
        assertThat(cache.lookup(a)).isPresent();
        assertThat(cache.lookup(c)).isPresent();
        assertThat(cache.complete()).hasSize(2);
    }

    @Test
    void aNewTemplateReplacesStaleOnesOfTheSameImageAndShapeOnly() throws Exception {
        cache = new TemplateCache(dir, 10);
        TemplateKey old = key("demo", 256, "kernel-1", "r");
        TemplateKey otherShape = key("demo", 512, "kernel-1", "r");
        TemplateKey otherImage = key("demo2", 256, "kernel-1", "r");
        built(cache.requestBuild(old, WRITES));
        built(cache.requestBuild(otherShape, WRITES));
        built(cache.requestBuild(otherImage, WRITES));
        TemplateKey fresh = key("demo", 256, "kernel-2", "r");
        built(cache.requestBuild(fresh, WRITES));
        assertThat(cache.lookup(old)).as("same image and shape, older kernel").isEmpty();
        assertThat(cache.lookup(fresh)).isPresent();
        assertThat(cache.lookup(otherShape)).isPresent();
        assertThat(cache.lookup(otherImage)).isPresent();
        TemplateKey newRunner = key("demo", 256, "kernel-2", "r2");
        built(cache.requestBuild(newRunner, WRITES));
        assertThat(cache.lookup(fresh)).as("older runner").isEmpty();
    }

    @Test
    void invalidateDeletesTheSnapshot() throws Exception {
        cache = new TemplateCache(dir, 4);
        TemplateKey k = key("demo", 256, "i", "r");
        built(cache.requestBuild(k, WRITES));
        cache.invalidate(k, "restore failed: bad \"file\"");
        assertThat(cache.lookup(k)).isEmpty();
        assertThat(cache.requestBuild(k, WRITES)).isPresent();
    }

    @Test
    void atLeastOneTemplateMustBeAllowed() {
        assertThatThrownBy(() -> new TemplateCache(dir, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
