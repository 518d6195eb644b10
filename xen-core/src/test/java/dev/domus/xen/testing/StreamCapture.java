// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Collects a process stream on a daemon thread so a test can wait for a substring (a console line, an error) with
 * a timeout instead of sleeping; shared by the tests that drive {@code bin/xl} and domain consoles.
 */
public final class StreamCapture {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private Thread thread;

    private StreamCapture() {
    }

    /** Starts collecting {@code in} until it ends. */
    public static StreamCapture of(InputStream in) {
        StreamCapture c = new StreamCapture();
        c.thread = Thread.ofPlatform().daemon().start(() -> {
            byte[] b = new byte[4096];
            try {
                int n;
                while ((n = in.read(b)) > 0) {
                    synchronized (c) {
                        c.buf.write(b, 0, n);
                        c.notifyAll();
                    }
                }
            } catch (IOException e) {
                // process gone
            }
            synchronized (c) {
                c.notifyAll();
            }
        });
        return c;
    }

    /** Waits until the stream ended (the process closed it). */
    public void join() throws InterruptedException {
        thread.join();
    }

    /** True once the collected text contains {@code s}; false on timeout or when the stream ended without it. */
    public synchronized boolean awaitContains(String s, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!toString().contains(s)) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !thread.isAlive()) {
                return toString().contains(s);
            }
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, 1_000_000_000L));
        }
        return true;
    }

    @Override
    public synchronized String toString() {
        return buf.toString(StandardCharsets.UTF_8);
    }
}
