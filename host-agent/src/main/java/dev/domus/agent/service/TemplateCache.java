// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jboss.logging.Logger;

/**
 * The template snapshots of this host, one file per {@link TemplateKey} under one directory.
 *
 * <p>A snapshot is written by its builder to a {@code .tmp-} name and renamed into place only when complete, so a
 * file with the final name is always whole; leftovers of interrupted builds are deleted when the cache opens. At
 * most {@code maxEntries} files are kept: using one touches its modification time, and the least recently used go
 * first. A new template of an image and shape replaces the older ones of that image and shape (a changed kernel,
 * initramfs or runner makes a new key; the old snapshot could never be used again). Builds run one at a time on a background thread
 * (each is a whole guest boot on a shared host) and a key being built is not queued twice.
 */
final class TemplateCache implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TemplateCache.class);
    private static final String SUFFIX = ".snap";
    private static final String TMP = ".tmp-";

    /** Makes the snapshot of {@code key} at {@code out} (absent before the call); throws when it cannot. */
    @FunctionalInterface
    interface Builder {
        void build(TemplateKey key, Path out) throws Exception;
    }

    private final Path dir;
    private final int maxEntries;
    private final Set<String> building = ConcurrentHashMap.newKeySet();
    private final ExecutorService executor = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("template-builder").factory());

    TemplateCache(Path dir, int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("at least one template must be allowed, got " + maxEntries);
        }
        this.dir = dir;
        this.maxEntries = maxEntries;
        try {
            Files.createDirectories(dir);
            for (Path p : list()) {
                if (p.getFileName().toString().contains(TMP)) {
                    Files.deleteIfExists(p);
                    LOG.infof("event=template_partial_removed path=%s", p);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot prepare the template directory " + dir + ": " + e, e);
        }
    }

    Path dir() {
        return dir;
    }

    /** The complete snapshot of {@code key}, marked as just used; empty when there is none (yet). */
    Optional<Path> lookup(TemplateKey key) {
        Path f = dir.resolve(key.fileName());
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            Files.setLastModifiedTime(f, FileTime.from(Instant.now()));
        } catch (IOException e) {
            return Optional.empty(); // deleted in between (eviction)
        }
        return Optional.of(f);
    }

    boolean isBuilding(TemplateKey key) {
        return building.contains(key.id());
    }

    /** Queues a build of {@code key} unless it exists or is queued; the future is empty when nothing was queued. */
    Optional<Future<?>> requestBuild(TemplateKey key, Builder builder) {
        if (Files.isRegularFile(dir.resolve(key.fileName())) || !building.add(key.id())) {
            return Optional.empty();
        }
        return Optional.of(executor.submit(() -> {
            try {
                buildNow(key, builder);
            } finally {
                building.remove(key.id());
            }
        }));
    }

    private void buildNow(TemplateKey key, Builder builder) {
        Path fin = dir.resolve(key.fileName());
        Path tmp = dir.resolve(key.fileName() + TMP + Long.toHexString(System.nanoTime()));
        long t0 = System.nanoTime();
        LOG.infof("event=template_build_started %s", key.describe());
        try {
            builder.build(key, tmp);
            if (!Files.isRegularFile(tmp) || Files.size(tmp) == 0) {
                throw new IOException("the builder left no snapshot at " + tmp);
            }
            Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.infof("event=template_built %s bytes=%d ms=%d", key.describe(), Files.size(fin),
                    (System.nanoTime() - t0) / 1_000_000);
            removeOthersOfImage(key);
            evict();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.infof("event=template_build_interrupted %s", key.describe());
        } catch (Exception e) {
            LOG.warnf("event=template_build_failed %s error=\"%s\"", key.describe(), String.valueOf(e.getMessage())
                    .replace('"', '\''));
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                LOG.debugf("event=template_tmp_left path=%s error=%s", tmp, e);
            }
        }
    }

    /** Deletes {@code key}'s snapshot (it failed to restore: rebuilt on the next need). */
    void invalidate(TemplateKey key, String why) {
        try {
            if (Files.deleteIfExists(dir.resolve(key.fileName()))) {
                LOG.warnf("event=template_invalidated %s reason=\"%s\"", key.describe(), why.replace('"', '\''));
            }
        } catch (IOException e) {
            LOG.warnf("event=template_invalidate_failed %s error=%s", key.describe(), e);
        }
    }

    /** Templates of the same image and shape under another key: an older kernel, initramfs or runner. */
    private void removeOthersOfImage(TemplateKey key) throws IOException {
        String prefix = key.shapePrefix();
        for (Path p : complete()) {
            String n = p.getFileName().toString();
            if (n.startsWith(prefix) && !n.equals(key.fileName())
                    && n.substring(prefix.length()).matches("[0-9a-f]{20}\\.snap")) {
                Files.deleteIfExists(p);
                LOG.infof("event=template_stale_removed path=%s", p);
            }
        }
    }

    /** Least recently used beyond {@code maxEntries}, oldest first. */
    private void evict() throws IOException {
        List<Path> all = new ArrayList<>(complete());
        if (all.size() <= maxEntries) {
            return;
        }
        all.sort(Comparator.comparing(TemplateCache::mtime));
        for (Path p : all.subList(0, all.size() - maxEntries)) {
            Files.deleteIfExists(p);
            LOG.infof("event=template_evicted path=%s", p);
        }
    }

    /** Complete snapshots, i.e. final names only. */
    List<Path> complete() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : list()) {
            String n = p.getFileName().toString();
            if (n.endsWith(SUFFIX) && !n.contains(TMP) && Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    private List<Path> list() throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static FileTime mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    /** Stops queued builds; a running one is interrupted (its builder cleans up its domain). */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
