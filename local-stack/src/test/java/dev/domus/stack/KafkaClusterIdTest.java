// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaClusterIdTest {

    @Test
    void clusterIdsAre22Base64UrlCharsAndNeverLookLikeAnOption() {
        for (int i = 0; i < 5000; i++) {
            String id = KafkaService.newClusterId();
            assertThat(id).hasSize(22).matches("[A-Za-z0-9_][A-Za-z0-9_-]{21}");
        }
    }
}
