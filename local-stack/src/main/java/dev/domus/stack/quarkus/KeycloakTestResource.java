// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack.quarkus;

import dev.domus.stack.KeycloakRealm;
import dev.domus.stack.KeycloakService;
import dev.domus.stack.StackOptions;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/**
 * A real Keycloak for {@code @QuarkusTest}s, with the Domus realm ({@code deploy/keycloak/domus-realm.json}, a copy
 * of which is in the local-stack jar) or the file named by init arg {@code realm-file}. Returns
 * {@code quarkus.oidc.auth-server-url} and, from the realm file:
 * <ul>
 * <li>{@code domus.test.realm}, {@code domus.test.issuer}, {@code domus.test.token-url}</li>
 * <li>{@code domus.test.client.<clientId>.secret} for every confidential client
 *     (e.g. {@code domus.test.client.domus-host-agent.secret})</li>
 * <li>{@code domus.test.user.<local part>.username} / {@code .password} for every user with a password
 *     (e.g. {@code domus.test.user.alice.password})</li>
 * </ul>
 * One server per JVM and realm file; the first realm file used wins.
 */
public final class KeycloakTestResource implements QuarkusTestResourceLifecycleManager {

    private static KeycloakService shared;

    private Path realmFile;

    /** The JVM-wide server with the Domus realm, started on first use and stopped by a shutdown hook. */
    public static KeycloakService service() {
        return service(bundledRealm());
    }

    static synchronized KeycloakService service(Path realm) {
        if (shared == null) {
            shared = KeycloakService.start(StackOptions.in(TestStateDirs.forService("keycloak")), realm);
        }
        return shared;
    }

    /** The Domus realm file as shipped in this jar, extracted once per JVM. */
    static synchronized Path bundledRealm() {
        Path target = TestStateDirs.forService("keycloak").resolve("domus-realm.json");
        if (!Files.isRegularFile(target)) {
            try (InputStream in = KeycloakTestResource.class.getResourceAsStream("/dev/domus/stack/domus-realm.json")) {
                if (in == null) {
                    throw new IllegalStateException("domus-realm.json is missing from the local-stack jar");
                }
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return target;
    }

    @Override
    public void init(Map<String, String> initArgs) {
        String f = initArgs.get("realm-file");
        realmFile = f == null || f.isBlank() ? bundledRealm() : Path.of(f).toAbsolutePath();
    }

    @Override
    public Map<String, String> start() {
        KeycloakService kc = service(realmFile == null ? bundledRealm() : realmFile);
        return config(kc);
    }

    /** The properties {@link #start()} returns, for a given server. */
    public static Map<String, String> config(KeycloakService kc) {
        KeycloakRealm realm = kc.realm();
        Map<String, String> m = new HashMap<>();
        m.put("quarkus.oidc.auth-server-url", kc.issuer(realm.name()));
        m.put("domus.test.realm", realm.name());
        m.put("domus.test.issuer", kc.issuer(realm.name()));
        m.put("domus.test.token-url", kc.tokenUrl(realm.name()));
        realm.clientSecrets().forEach((id, secret) -> m.put("domus.test.client." + id + ".secret", secret));
        realm.userPasswords().forEach((user, pw) -> {
            int at = user.indexOf('@');
            String key = at > 0 ? user.substring(0, at) : user;
            m.put("domus.test.user." + key + ".username", user);
            m.put("domus.test.user." + key + ".password", pw);
        });
        return Map.copyOf(m);
    }

    @Override
    public void stop() {
        // Shared by every test class of this JVM: stopped by the service's shutdown hook, not per class.
    }
}
