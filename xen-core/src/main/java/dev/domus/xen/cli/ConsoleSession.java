// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import dev.domus.xen.domain.ConsoleClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Copies bytes between the user and a domain console until the domain ends or, in interactive mode, the user
 * types the escape character Ctrl-].
 */
final class ConsoleSession {
    /** Ctrl-]: detaches like {@code xl console} and telnet. */
    static final int ESCAPE = 0x1d;

    enum End { DOMAIN_ENDED, DETACHED }

    private ConsoleSession() { }

    /**
     * Runs the session on the calling thread (output) and a daemon thread (input).
     *
     * @param interactive watch for Ctrl-] in the input; otherwise end of input just stops sending
     */
    static End run(ConsoleClient console, InputStream in, OutputStream out, boolean interactive) {
        var detached = new java.util.concurrent.atomic.AtomicBoolean();
        Thread input = Thread.ofPlatform().daemon().name("console-input").start(() -> {
            byte[] buf = new byte[1024];
            try {
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        if (!interactive) {
                            console.finishInput();
                        }
                        return;
                    }
                    int esc = interactive ? indexOf(buf, n, ESCAPE) : -1;
                    if (esc >= 0) {
                        if (esc > 0) {
                            console.write(buf, 0, esc);
                        }
                        detached.set(true);
                        console.close();
                        return;
                    }
                    console.write(buf, 0, n);
                }
            } catch (IOException e) {
                // console closed under us: the output side reports the end
            }
        });
        byte[] buf = new byte[8192];
        try {
            while (true) {
                int n = console.read(buf, 0, buf.length);
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // closed by detach, or the runner went away
        }
        input.interrupt();
        return detached.get() ? End.DETACHED : End.DOMAIN_ENDED;
    }

    private static int indexOf(byte[] buf, int n, int b) {
        for (int i = 0; i < n; i++) {
            if (buf[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
