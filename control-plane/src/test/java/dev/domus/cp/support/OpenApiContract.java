// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.restassured.filter.Filter;
import io.restassured.filter.FilterContext;
import io.restassured.response.Response;
import io.restassured.specification.FilterableRequestSpecification;
import io.restassured.specification.FilterableResponseSpecification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A RestAssured filter that checks every response against {@code api-spec/openapi.yaml}: the status must be
 * documented for the operation, the content type must match, and the body must validate against the documented
 * schema (OpenAPI 3.1 schemas are JSON Schema 2020-12, validated in place by pointer into the document).
 */
public final class OpenApiContract implements Filter {
    private static final String DOC_URI = "https://domus.test/openapi.json";
    private static final OpenApiContract INSTANCE = new OpenApiContract();

    private final JsonNode doc;
    private final SchemaRegistry registry;
    private final List<Route> routes = new ArrayList<>();
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

    private record Route(Pattern pattern, String template) {
    }

    private OpenApiContract() {
        try {
            Path spec = Path.of(System.getProperty("domus.repo.root", ".."), "api-spec", "openapi.yaml");
            if (!Files.exists(spec)) {
                spec = Path.of("..", "api-spec", "openapi.yaml");
            }
            doc = new ObjectMapper(new YAMLFactory()).readTree(spec.toFile());
            String json = new ObjectMapper().writeValueAsString(doc);
            registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
                    b -> b.schemas(Map.of(DOC_URI, json)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Iterator<String> it = doc.get("paths").fieldNames(); it.hasNext(); ) {
            String t = it.next();
            routes.add(new Route(Pattern.compile(t.replaceAll("\\{[^}]+}", "[^/]+")), t));
        }
    }

    public static OpenApiContract filter() {
        return INSTANCE;
    }

    @Override
    public Response filter(FilterableRequestSpecification req, FilterableResponseSpecification res, FilterContext ctx) {
        Response r = ctx.next(req, res);
        String path = java.net.URI.create(req.getURI()).getPath();
        if (!path.startsWith("/v1")) {
            return r;
        }
        List<String> problems = check(req.getMethod().toLowerCase(java.util.Locale.ROOT), path, r.statusCode(),
                r.contentType(), r.asString());
        if (!problems.isEmpty()) {
            throw new AssertionError("response violates openapi.yaml: " + req.getMethod() + " " + path + " -> "
                    + r.statusCode() + ": " + problems + "\nbody: " + r.asString());
        }
        return r;
    }

    /** Problems of one response against the spec (empty = conforms). */
    public List<String> check(String method, String path, int status, String contentType, String body) {
        List<String> out = new ArrayList<>();
        Route route = null;
        for (Route rt : routes) {
            if (rt.pattern().matcher(path).matches()) {
                // Prefer the literal match (e.g. /v1/me) over a templated one.
                if (route == null || !rt.template().contains("{")) {
                    route = rt;
                }
            }
        }
        if (route == null) {
            out.add("path not in spec");
            return out;
        }
        String opPointer = "/paths/" + escape(route.template()) + "/" + method;
        JsonNode op = doc.at(opPointer);
        if (op.isMissingNode()) {
            out.add("method not in spec");
            return out;
        }
        String respPointer = opPointer + "/responses/" + status;
        JsonNode resp = doc.at(respPointer);
        if (resp.isMissingNode()) {
            // 401/429/500 can come from any operation through the cross-cutting layers.
            if (status == 401 || status == 429 || status == 500 || status == 403) {
                respPointer = "/components/responses/" + switch (status) {
                    case 401 -> "Unauthorized";
                    case 403 -> "Forbidden";
                    case 429 -> "TooManyRequests";
                    default -> "BadRequest";
                };
                resp = doc.at(respPointer);
            } else {
                out.add("status " + status + " not documented");
                return out;
            }
        }
        if (resp.has("$ref")) {
            respPointer = resp.get("$ref").asText().substring(1);
            resp = doc.at(respPointer);
        }
        JsonNode content = resp.get("content");
        if (content == null) {
            if (body != null && !body.isEmpty()) {
                out.add("body where the spec has none");
            }
            return out;
        }
        String media = contentType == null ? "" : contentType.split(";")[0].strip();
        if (!content.has(media)) {
            out.add("content type '" + media + "' not documented (" + content.fieldNames().next() + ")");
            return out;
        }
        String schemaPointer = respPointer + "/content/" + escape(media) + "/schema";
        Schema schema = schemas.computeIfAbsent(schemaPointer,
                p -> registry.getSchema(SchemaLocation.of(DOC_URI + "#" + p)));
        for (Error e : schema.validate(body, InputFormat.JSON)) {
            out.add(e.toString());
        }
        return out;
    }

    private static String escape(String s) {
        return s.replace("~", "~0").replace("/", "~1");
    }
}
