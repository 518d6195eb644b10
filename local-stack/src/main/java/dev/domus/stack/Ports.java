// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Ports on 127.0.0.1: pick a free one, or fail early and clearly when a requested one is taken. */
final class Ports {

    static final String HOST = "127.0.0.1";

    private Ports() {
    }

    /** {@code requested} if it is free, a free ephemeral port if it is 0; a one-line error if it is taken. */
    static int claim(String service, int requested) {
        return claim(service, HOST, requested);
    }

    /** The same on {@code host} (an address of this machine). */
    static int claim(String service, String host, int requested) {
        if (requested == 0) {
            return free(host);
        }
        if (!isFree(host, requested)) {
            throw new StackException(service, StackException.Code.PORT_IN_USE,
                    "port " + requested + " on " + host + " is already in use");
        }
        return requested;
    }

    static int free() {
        return free(HOST);
    }

    static int free(String host) {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }

    static boolean isFree(int port) {
        return isFree(HOST, port);
    }

    static boolean isFree(String host, int port) {
        try (ServerSocket s = new ServerSocket()) {
            // SO_REUSEADDR as the servers set it: connections left in TIME_WAIT by a stopped server do not make
            // the port "taken" (a restart on the same port must work), a listening socket still does.
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(host), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
