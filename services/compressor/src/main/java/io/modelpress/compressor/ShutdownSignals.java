package io.modelpress.compressor;

import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT drain the service before the JVM starts its shutdown hooks.
 *
 * <p>Why not simply the shutdown hook: ONNX Runtime's {@code OrtEnvironment} registers a hook of its
 * own ({@code OrtEnvironment$OrtEnvCloser}) that releases the native environment, and the JVM runs all
 * hooks at once, in no order. Draining inside Quarkus' hook therefore raced with that release: a job
 * still creating a session crashed the JVM in {@code libonnxruntime.so}, or failed with "Attempt to use
 * DefaultLogger but none has been registered". So the signal stops intake, lets running models finish
 * or abandons them (unacknowledged, no failure event), waits until no job can call into ONNX Runtime
 * or PyTorch any more, and only then exits: the hooks that follow close the Kafka consumer (commit of
 * what finished, leaving the group) and release the native runtimes with nothing left using them.
 */
@ApplicationScoped
public class ShutdownSignals {

    private static final Logger LOG = Logger.getLogger(ShutdownSignals.class);

    private final ModelRegisteredConsumer consumer;
    private final AtomicBoolean received = new AtomicBoolean();

    @Inject
    public ShutdownSignals(ModelRegisteredConsumer consumer) {
        this.consumer = Objects.requireNonNull(consumer, "consumer is null");
    }

    void install(@Observes StartupEvent event) {
        // Tests and dev mode are stopped by their harness, which expects the JVM's own handling.
        if (LaunchMode.current() != LaunchMode.NORMAL) {
            return;
        }
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), this::onSignal);
            } catch (IllegalArgumentException e) {
                LOG.warnf("cannot handle SIG%s (%s): stopping relies on the shutdown hook alone", name, e.getMessage());
            }
        }
    }

    private void onSignal(Signal signal) {
        stop("SIG" + signal.getName());
    }

    /**
     * Stops the service the way a signal does, on a thread of its own, once: drains, then exits with
     * code 0 through Quarkus, whose hooks commit what finished and leave the group.
     */
    void stop(String why) {
        if (!received.compareAndSet(false, true)) {
            LOG.infof("%s: already stopping", why);
            return;
        }
        LOG.infof("%s: stopping; no new model is started", why);
        Thread stopper = new Thread(() -> {
            try {
                consumer.drain();
            } finally {
                Quarkus.asyncExit(0);
            }
        }, "modelpress-stop");
        stopper.start();
    }
}
