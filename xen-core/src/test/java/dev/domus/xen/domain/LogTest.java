// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTest {
    @Test
    void writesOneKeyValueLineAndQuotesWhereNeeded() {
        String line = Log.format("warn", "restart_failed", "domain", "demo", "error", "boom: \"x\"\nnext",
                "empty", "", "n", 3);
        assertThat(line).matches("ts=\\S+Z level=warn event=restart_failed domain=demo "
                + "error=\"boom: \\\\\"x\\\\\"\\\\nnext\" empty=\"\" n=3");
        assertThat(line).doesNotContain("\n");
    }
}
