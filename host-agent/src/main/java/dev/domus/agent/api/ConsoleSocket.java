// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.api;

import dev.domus.agent.domain.AgentException;
import dev.domus.agent.service.DomainSupervisor;
import dev.domus.xen.domain.ConsoleClient;
import dev.domus.xen.domain.DomainException;
import io.quarkus.websockets.next.OnBinaryMessage;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.PathParam;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.vertx.core.buffer.Buffer;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Console relay for the portal: a WebSocket per viewer bridged to the domain's console socket. Binary frames
 * out carry console output (first the runner's replay of recent output); text or binary frames in are typed into
 * the guest. The socket closes when the domain ends.
 */
@WebSocket(path = "/agent/v1/vps/{id}/console")
public class ConsoleSocket {
    private static final Logger LOG = Logger.getLogger(ConsoleSocket.class);

    @Inject
    DomainSupervisor supervisor;

    private final Map<String, ConsoleClient> consoles = new ConcurrentHashMap<>();

    @OnOpen
    public void onOpen(WebSocketConnection conn, @PathParam("id") String id) {
        UUID vps;
        try {
            vps = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            conn.close().subscribe().with(x -> { }, x -> { });
            return;
        }
        var status = supervisor.get(vps);
        if (status.isEmpty()) {
            conn.sendTextAndAwait("error: VPS " + vps + " is not on this host\n");
            conn.close().subscribe().with(x -> { }, x -> { });
            return;
        }
        ConsoleClient c;
        try {
            c = ConsoleClient.attach(supervisor.runDir(), status.get().record().domainName());
        } catch (DomainException e) {
            conn.sendTextAndAwait("error: " + e.getMessage() + "\n");
            conn.close().subscribe().with(x -> { }, x -> { });
            return;
        }
        consoles.put(conn.id(), c);
        LOG.infof("event=console_attached vps=%s connection=%s", vps, conn.id());
        Thread.ofVirtual().name("console-" + vps).start(() -> {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = c.read(buf, 0, buf.length)) >= 0) {
                    if (n > 0) {
                        conn.sendBinaryAndAwait(Buffer.buffer(java.util.Arrays.copyOf(buf, n)));
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.debugf("event=console_relay_ended vps=%s error=%s", vps, e.getMessage());
            } finally {
                consoles.remove(conn.id());
                c.close();
                if (conn.isOpen()) {
                    conn.close().subscribe().with(x -> { }, x -> { });
                }
            }
        });
    }

    @OnTextMessage
    public void onText(WebSocketConnection conn, String text) {
        type(conn, text.getBytes(StandardCharsets.UTF_8));
    }

    @OnBinaryMessage
    public void onBinary(WebSocketConnection conn, Buffer data) {
        type(conn, data.getBytes());
    }

    @OnClose
    public void onClose(WebSocketConnection conn) {
        ConsoleClient c = consoles.remove(conn.id());
        if (c != null) {
            c.close();
        }
    }

    private void type(WebSocketConnection conn, byte[] bytes) {
        ConsoleClient c = consoles.get(conn.id());
        if (c == null) {
            return;
        }
        try {
            c.write(bytes, 0, bytes.length);
        } catch (IOException e) {
            throw new AgentException(AgentException.BAD_STATE, "console input failed: " + e.getMessage(), e);
        }
    }
}
