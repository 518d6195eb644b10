// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack.quarkus;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A second Quarkus application (another test profile, so another class loader) in the same JVM: it must get
 * the same broker and Keycloak as {@link QuarkusResourcesIT}, not new ones.
 */
@QuarkusTest
@TestProfile(QuarkusProfileResourcesIT.OtherProfile.class)
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL)
class QuarkusProfileResourcesIT {

    public static final class OtherProfile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("domus.test.profile", "other");
        }
    }

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void servicesAreSharedAcrossQuarkusApplications() throws Exception {
        System.out.println("profile app: kafka " + bootstrap + " handle " + KafkaTestResource.service().bootstrapServers()
                + " pid " + KafkaTestResource.service().pid() + " loader " + KafkaTestResource.class.getClassLoader());
        assertThat(bootstrap).isEqualTo(KafkaTestResource.service().bootstrapServers());
        // Whichever loader started them, every loader sees the one published broker and Keycloak.
        var mbs = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        assertThat(mbs.getAttribute(new javax.management.ObjectName(
                "dev.domus.stack:type=SharedService,name=kafka"), "pid")).isEqualTo(KafkaTestResource.service().pid());
        assertThat(mbs.getAttribute(new javax.management.ObjectName(
                "dev.domus.stack:type=SharedService,name=keycloak"), "pid"))
                .isEqualTo(KeycloakTestResource.service().pid());
    }
}
