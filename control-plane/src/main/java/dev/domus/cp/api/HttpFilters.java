// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.cp.service.AuditContext;
import dev.domus.cp.service.AuditService;
import io.quarkus.runtime.BlockingOperationControl;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Cross-cutting HTTP behaviour of {@code /v1}: the body size limit, fixed-window rate limiting with
 * {@code RateLimit-*} headers, and the audit record of every mutating call.
 */
public class HttpFilters {
    private static final Set<String> MUTATING = Set.of("POST", "PUT", "PATCH", "DELETE");
    private static final String WINDOW = "domus.ratelimit.window";
    /** Audit writes from an I/O thread (e.g. a 401 before dispatch) go here: blocking there is not allowed. */
    private static final ExecutorService AUDIT_WRITER = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("audit-writer").daemon().factory());

    @Inject
    ApiConfig config;
    @Inject
    AuditService audit;
    @Inject
    AuditContext auditContext;
    @Inject
    CurrentCaller caller;

    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    /** One client's counter in the current window. */
    private record Window(long startMillis, AtomicInteger used) {
    }

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> limits(ContainerRequestContext ctx, HttpServerRequest request) {
        if (!ctx.getUriInfo().getPath().startsWith("/v1")) {
            return Optional.empty();
        }
        // Every answer of /v1 is JSON or problem+json (or empty): an Accept of application/json must not make a
        // 204 or a problem answer 406.
        String accept = ctx.getHeaderString("Accept");
        if (accept != null && !accept.contains("*/*")) {
            ctx.getHeaders().putSingle("Accept", accept + ", application/problem+json, */*;q=0.1");
        }
        String len = ctx.getHeaderString("Content-Length");
        if (len != null) {
            long n;
            try {
                n = Long.parseLong(len.strip());
            } catch (NumberFormatException e) {
                n = Long.MAX_VALUE;
            }
            if (n > config.maxBodyBytes()) {
                return Optional.of(Problems.of(400, "body_too_large", "Body too large",
                        "request body of " + len + " bytes exceeds the limit of " + config.maxBodyBytes(), List.of()));
            }
        }
        String key = ctx.getHeaderString("Authorization");
        if (key == null) {
            key = "addr:" + request.remoteAddress().hostAddress();
        }
        long now = System.currentTimeMillis();
        long windowMs = config.rateLimit().window().toMillis();
        Window w = windows.compute(key, (k, old) -> old == null || now - old.startMillis() >= windowMs
                ? new Window(now, new AtomicInteger()) : old);
        if (windows.size() > 100_000) {
            windows.entrySet().removeIf(e -> now - e.getValue().startMillis() >= windowMs);
        }
        int used = w.used().incrementAndGet();
        long resetSec = Math.max(0, (w.startMillis() + windowMs - now + 999) / 1000);
        int limit = config.rateLimit().requests();
        ctx.setProperty(WINDOW, new long[] {limit, Math.max(0, limit - used), resetSec});
        if (used > limit) {
            Response r = Problems.of(429, "rate_limited", "Rate limited",
                    "more than " + limit + " requests in " + config.rateLimit().window().toSeconds() + " s", List.of());
            return Optional.of(Response.fromResponse(r).header("Retry-After", resetSec)
                    .header("RateLimit-Limit", limit).header("RateLimit-Remaining", 0)
                    .header("RateLimit-Reset", resetSec).build());
        }
        return Optional.empty();
    }

    @ServerResponseFilter
    public void after(ContainerRequestContext req, ContainerResponseContext res) {
        if (req.getProperty(WINDOW) instanceof long[] w && !res.getHeaders().containsKey("RateLimit-Limit")) {
            res.getHeaders().putSingle("RateLimit-Limit", w[0]);
            res.getHeaders().putSingle("RateLimit-Remaining", w[1]);
            res.getHeaders().putSingle("RateLimit-Reset", w[2]);
        }
        String path = req.getUriInfo().getPath();
        if (!MUTATING.contains(req.getMethod()) || !path.startsWith("/v1") || res.getStatus() == 429) {
            return;
        }
        AuditService.Entry e = new AuditService.Entry(caller.peek(), req.getMethod(), path, res.getStatus(),
                auditContext.code(), auditContext.organizationId(), auditContext.projectId(),
                auditContext.resourceType(), auditContext.resourceId());
        if (BlockingOperationControl.isBlockingAllowed()) {
            audit.record(e);
        } else {
            AUDIT_WRITER.execute(() -> audit.record(e));
        }
    }
}
