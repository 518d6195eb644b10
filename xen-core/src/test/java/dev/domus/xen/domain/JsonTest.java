// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void roundTripsAReplyWithNestedResult() throws Exception {
        Map<String, Object> reply = Json.obj("id", 7L, "ok", true, "result",
                Json.obj("name", "demo", "vcpus", 2L, "load", 0.5, "tags", List.of("a", "b"), "none", Json.NULL));
        String line = Json.write(reply);
        assertThat(line).isEqualTo(
                "{\"id\":7,\"ok\":true,\"result\":{\"name\":\"demo\",\"vcpus\":2,\"load\":0.5,"
                        + "\"tags\":[\"a\",\"b\"],\"none\":null}}");
        assertThat(Json.parse(line)).isEqualTo(reply);
    }

    @Test
    void escapesControlCharactersSoEveryMessageIsOneLine() throws Exception {
        String tricky = "line1\nline2\t\"quoted\" back\\slash \u0001 \u2028 é";
        String line = Json.write(Json.obj("message", tricky));
        assertThat(line).doesNotContain("\n").doesNotContain("\u2028").contains("\\u0001");
        assertThat(Json.parseObject(line)).containsEntry("message", tricky);
    }

    @Test
    void parsesNumbersAndWhitespace() throws Exception {
        assertThat(Json.parse(" { \"a\" : -12 , \"b\" : 1.5e3, \"c\": 0, \"d\": [ ] , \"e\": {} } "))
                .isEqualTo(Json.obj("a", -12L, "b", 1500.0, "c", 0L, "d", List.of(), "e", Map.of()));
        assertThat(Json.parse("\"\\u00e9\\/\"")).isEqualTo("é/");
        assertThat(Json.parse("99999999999999999999")).isEqualTo(1e20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "{\"a\":1}x", "tru", "01", "-", "1.",
            "\"open", "\"bad \\x escape\"", "{a:1}", "{\"a\":1,\"a\":2}", "\"tab\there\"", "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]"})
    void rejectsMalformedInput(String text) {
        assertThatThrownBy(() -> Json.parse(text)).isInstanceOf(Json.ParseException.class)
                .hasMessageContaining("at offset");
    }

    @Test
    void parseObjectRejectsNonObjects() {
        assertThatThrownBy(() -> Json.parseObject("[1]")).hasMessageContaining("expected a JSON object");
    }
}
