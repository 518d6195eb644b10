// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.DynamicMBean;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One instance of a service per JVM even when several class loaders load this library (a Quarkus test run
 * creates one application class loader per test profile, each with its own statics). The owner publishes the
 * service as an MBean on the platform MBean server, which every loader shares; other loaders build a view that
 * reads its attributes (JDK types only) and invokes its operations.
 */
final class JvmShared {

    private static final String LOCK = "dev.domus.stack.JvmShared.lock";

    private JvmShared() {
    }

    static MBeanServer server() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    static ObjectName name(String service) {
        try {
            return new ObjectName("dev.domus.stack:type=SharedService,name=" + service);
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The JVM-wide service {@code service}: {@code start} in this loader if nobody published one yet (then
     * {@code publish} names its attributes and operations), else {@code attach} to the published one.
     */
    static <T> T getOrStart(String service, Supplier<StackOptions> options, String realmFile, Supplier<T> start,
                            Function<T, Published> publish, Function<ObjectName, T> attach) {
        MBeanServer mbs = server();
        ObjectName name = name(service);
        // A string literal is interned: one object for all class loaders, so this is a JVM-wide lock.
        synchronized (LOCK) {
            if (mbs.isRegistered(name)) {
                return attach.apply(name);
            }
            // A Quarkus application class loader is closed after its tests; an owner living in it could not load
            // a class any more (a Kafka restart creates clients). So the copy of this library on the system class
            // path, which lives as long as the JVM, owns the service whenever there is one.
            if (startInSystemLoader(service, options, realmFile) && mbs.isRegistered(name)) {
                return attach.apply(name);
            }
            T s = start.get();
            try {
                mbs.registerMBean(publish.apply(s), name);
            } catch (JMException e) {
                throw new IllegalStateException("cannot publish shared " + service, e);
            }
            return s;
        }
    }

    private static boolean startInSystemLoader(String service, Supplier<StackOptions> options, String realmFile) {
        ClassLoader system = ClassLoader.getSystemClassLoader();
        if (JvmShared.class.getClassLoader() == system) {
            return false;
        }
        Class<?> other;
        try {
            other = Class.forName(JvmShared.class.getName(), true, system);
        } catch (ClassNotFoundException | LinkageError e) {
            return false; // not on the system class path: this loader owns the service
        }
        if (other == JvmShared.class) {
            return false;
        }
        StackOptions o = options.get();
        try {
            java.lang.reflect.Method m = other.getDeclaredMethod("startHere", String.class, String.class, int.class,
                    long.class, String.class);
            m.setAccessible(true);
            m.invoke(null, service, o.stateDir().toString(), o.port(), o.startTimeout().toMillis(), realmFile);
            return true;
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable c = e.getCause();
            // The cause's class is the other loader's StackException: carry its one-line message and code over.
            StackException.Code code = StackException.Code.START_FAILED;
            try {
                code = StackException.Code.valueOf(String.valueOf(c.getClass().getMethod("code").invoke(c)));
            } catch (ReflectiveOperationException | RuntimeException ignored) {
                // Not a StackException: START_FAILED.
            }
            String msg = String.valueOf(c.getMessage());
            String prefix = service + ": ";
            throw new StackException(service, code, msg.startsWith(prefix) ? msg.substring(prefix.length()) : msg,
                    "", c);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    /** Called by {@link #startInSystemLoader} of another loader's copy (JDK types only): start and publish here. */
    @SuppressWarnings("unused")
    private static void startHere(String service, String stateDir, int port, long timeoutMillis, String realmFile) {
        StackOptions o = new StackOptions(java.nio.file.Path.of(stateDir), port,
                java.time.Duration.ofMillis(timeoutMillis));
        switch (service) {
            case PostgresService.SERVICE -> PostgresService.shared(() -> o);
            case KafkaService.SERVICE -> KafkaService.shared(() -> o);
            case KeycloakService.SERVICE -> KeycloakService.shared(() -> o, java.nio.file.Path.of(realmFile));
            default -> throw new IllegalArgumentException("unknown service " + service);
        }
    }

    static Object get(ObjectName name, String attribute) {
        try {
            return server().getAttribute(name, attribute);
        } catch (JMException e) {
            throw new StackException(name.getKeyProperty("name"), StackException.Code.OPERATION_FAILED,
                    "shared service does not answer " + attribute + ": " + e.getMessage(), "", e);
        }
    }

    static void invoke(ObjectName name, String operation) {
        try {
            server().invoke(name, operation, new Object[0], new String[0]);
        } catch (JMException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new StackException(name.getKeyProperty("name"), StackException.Code.OPERATION_FAILED,
                    operation + " of the shared service failed: " + cause.getMessage(), "", cause);
        }
    }

    /** The published face of a service: attributes read live, operations without arguments. */
    record Published(Map<String, Supplier<Object>> attributes, Map<String, Runnable> operations)
            implements DynamicMBean {

        @Override
        public Object getAttribute(String attribute) throws javax.management.AttributeNotFoundException {
            Supplier<Object> s = attributes.get(attribute);
            if (s == null) {
                throw new javax.management.AttributeNotFoundException(attribute);
            }
            return s.get();
        }

        @Override
        public void setAttribute(Attribute attribute) {
            throw new UnsupportedOperationException("read-only");
        }

        @Override
        public AttributeList getAttributes(String[] names) {
            AttributeList l = new AttributeList();
            for (String n : names) {
                Supplier<Object> s = attributes.get(n);
                if (s != null) {
                    l.add(new Attribute(n, s.get()));
                }
            }
            return l;
        }

        @Override
        public AttributeList setAttributes(AttributeList list) {
            return new AttributeList();
        }

        @Override
        public Object invoke(String action, Object[] params, String[] signature) throws javax.management.MBeanException {
            Runnable r = operations.get(action);
            if (r == null) {
                throw new javax.management.MBeanException(new IllegalArgumentException("no operation " + action));
            }
            try {
                r.run();
            } catch (RuntimeException e) {
                // Only JDK exception types cross the loader boundary.
                String why = e.getMessage() + (e.getCause() != null ? " (" + e.getCause() + ")" : "");
                throw new javax.management.MBeanException(new IllegalStateException(why));
            }
            return null;
        }

        @Override
        public MBeanInfo getMBeanInfo() {
            MBeanAttributeInfo[] attrs = attributes.keySet().stream()
                    .map(n -> new MBeanAttributeInfo(n, "java.lang.Object", n, true, false, false))
                    .toArray(MBeanAttributeInfo[]::new);
            MBeanOperationInfo[] ops = operations.keySet().stream()
                    .map(n -> new MBeanOperationInfo(n, n, new javax.management.MBeanParameterInfo[0], "void",
                            MBeanOperationInfo.ACTION))
                    .toArray(MBeanOperationInfo[]::new);
            return new MBeanInfo(Published.class.getName(), "Domus local-stack shared service", attrs, null, ops,
                    null);
        }
    }
}
