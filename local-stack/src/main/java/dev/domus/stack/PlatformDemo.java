// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The demo seed of {@code deploy/up}, made through the public API like a customer would: alice's organization
 * {@code demo} with project {@code default}, a personal access token, an SSH key (generated once in the state
 * directory) and, on request, one VPS waited for until SSH answers. Plans, the image and the region come from the
 * control plane's own catalog seed. Idempotent: existing organization, project and key are reused.
 */
final class PlatformDemo {

    /** What the demo seed made. */
    record Seed(String organizationId, String projectId, String token, Path sshKey, String sshKeyId) {
    }

    /** The demo VPS: its id, the host it runs on and its address. */
    record DemoVps(String id, PlatformHost host, String ip) {
    }

    private final Platform platform;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    PlatformDemo(Platform platform) {
        this.platform = platform;
    }

    Seed seed(Path stateDir) {
        String api = platform.apiUrl();
        String alice = platform.passwordToken("alice");
        String orgId = findByName(Json.call(http, "GET", api + "/v1/organizations", alice, null), "demo")
                .orElseGet(() -> Json.call(http, "POST", api + "/v1/organizations", alice,
                        Json.object("name", "demo", "display_name", "Demo")).path("id").asText());
        String projects = api + "/v1/organizations/" + orgId + "/projects";
        String projectId = findByName(Json.call(http, "GET", projects, alice, null), "default")
                .orElseGet(() -> Json.call(http, "POST", projects, alice, Json.object("name", "default"))
                        .path("id").asText());
        Path tokenFile = stateDir.resolve("demo-token");
        String token;
        try {
            if (Files.isRegularFile(tokenFile)) {
                token = Files.readString(tokenFile).strip();
            } else {
                token = Json.call(http, "POST", api + "/v1/tokens", alice,
                        Json.object("name", "deploy-up-demo", "scopes", List.of("read", "write"))).path("secret").asText();
                Files.writeString(tokenFile, token + "\n");
            }
        } catch (IOException e) {
            throw new StackException("platform", StackException.Code.START_FAILED, "cannot keep " + tokenFile, "", e);
        }
        Path key = stateDir.resolve("demo_ed25519");
        if (!Files.isRegularFile(key)) {
            Netns.Result r = Netns.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "domus-demo", "-f",
                    key.toString());
            if (!r.ok()) {
                throw new StackException("platform", StackException.Code.START_FAILED, "ssh-keygen failed: " + r.err());
            }
        }
        String pub;
        try {
            pub = Files.readString(Path.of(key + ".pub")).strip();
        } catch (IOException e) {
            throw new StackException("platform", StackException.Code.START_FAILED, "cannot read " + key + ".pub", "", e);
        }
        String keys = api + "/v1/projects/" + projectId + "/ssh-keys";
        String keyId = findByName(Json.call(http, "GET", keys, token, null), "demo")
                .orElseGet(() -> Json.call(http, "POST", keys, token, Json.object("name", "demo", "public_key", pub))
                        .path("id").asText());
        return new Seed(orgId, projectId, token, key, keyId);
    }

    /** Creates VPS {@code demo} (or finds it), waits for its create action and for SSH; returns where it runs. */
    DemoVps demoVps(Seed s, Duration timeout) {
        String api = platform.apiUrl();
        String list = api + "/v1/projects/" + s.projectId() + "/vps";
        Optional<String> existing = findByName(Json.call(http, "GET", list, s.token(), null), "demo");
        String id = existing.orElseGet(() -> {
            JsonNode r = Json.call(http, "POST", list, s.token(), Json.object("name", "demo", "plan", "s-1",
                    "image", Platform.IMAGE, "region", Platform.REGION, "ssh_keys", List.of(s.sshKeyId())));
            return r.path("vps").path("id").asText();
        });
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode vps;
        while (true) {
            vps = Json.call(http, "GET", api + "/v1/vps/" + id, s.token(), null);
            if ("running".equals(vps.path("status").asText())) {
                break;
            }
            if ("error".equals(vps.path("status").asText())) {
                throw new StackException("platform", StackException.Code.START_FAILED, "demo VPS " + id + " is in error");
            }
            pause(deadline, "demo VPS " + id + " running (status " + vps.path("status").asText() + ")");
        }
        String hostId = vps.path("host_id").asText();
        PlatformHost host = platform.hosts().stream().filter(h -> h.id().toString().equals(hostId)).findFirst()
                .orElseThrow(() -> new StackException("platform", StackException.Code.START_FAILED,
                        "demo VPS " + id + " is not on a host of this platform"));
        // The public API shows the pool address; a host without a pool (none registered) leaves only the agent's.
        String apiIp = vps.path("ipv4").path(0).path("address").asText("");
        String ip = apiIp.isEmpty() ? agentIp(host, id, deadline) : apiIp;
        while (!Netns.run("ssh", "-i", s.sshKey().toString(), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                "-o", "LogLevel=ERROR", "root@" + ip, "true").ok()) {
            pause(deadline, "SSH to the demo VPS at " + ip);
        }
        return new DemoVps(id, host, ip);
    }

    /** The address the host's agent gave the VPS (its local API), when the public API shows none. */
    private String agentIp(PlatformHost host, String vpsId, long deadline) {
        while (true) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(host.agentUrl()
                        + "/agent/v1/vps/" + vpsId)).timeout(Duration.ofSeconds(10)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    String ip = Json.MAPPER.readTree(r.body()).path("ip").asText("");
                    if (!ip.isEmpty()) {
                        return ip.contains("/") ? ip.substring(0, ip.indexOf('/')) : ip;
                    }
                }
            } catch (IOException e) {
                // agent busy or restarting: try again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StackException("platform", StackException.Code.START_FAILED, "interrupted");
            }
            pause(deadline, "the agent of " + host.name() + " to report the VPS address");
        }
    }

    private static Optional<String> findByName(JsonNode list, String name) {
        for (JsonNode n : list.path("items")) {
            if (name.equals(n.path("name").asText())) {
                return Optional.of(n.path("id").asText());
            }
        }
        return Optional.empty();
    }

    private static void pause(long deadline, String what) {
        if (System.nanoTime() > deadline) {
            throw new StackException("platform", StackException.Code.TIMEOUT, "timed out waiting for " + what);
        }
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("platform", StackException.Code.START_FAILED, "interrupted");
        }
    }
}
