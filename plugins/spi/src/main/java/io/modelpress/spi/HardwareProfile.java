package io.modelpress.spi;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * A hardware target and what a compressed model must meet on it. Profiles are data (JSON or YAML
 * validated against {@code hardware-profile.schema.json}); plugins read them to choose a form.
 *
 * @param id stable lowercase id, e.g. {@code x86-vnni}
 * @param description one line for people
 * @param precisions precisions the target executes well, iterated in the order of {@link Precision}
 * @param quantizedFormat the quantized form it prefers
 * @param executionProvider ONNX Runtime execution provider, e.g. {@code cpu}, {@code cuda}, {@code wasm}
 * @param memoryBudgetBytes memory the model may use when running, if bounded
 * @param sizeBudgetBytes largest artifact it accepts, if bounded
 * @param latencyBudgetMillis latency it must meet at {@code batchSize}, if bounded
 * @param maxAccuracyDrop accuracy (or fidelity) the owner accepts to lose, in percentage points (1 = one point)
 * @param batchSize batch size it runs at
 * @param threads intra-op threads it runs with
 * @param minMeanCosine floor on every output's mean cosine to the original's, if the profile sets one
 * @param minWorstCosine floor on every output's worst-sample cosine, if the profile sets one
 * @param requireRealData whether a result judged on generated inputs alone may never be published as complete
 * @param operators the ONNX operators the target runs, when the profile declares them: {@code Conv} for the default
 *     domain, {@code com.microsoft.QGemm} for another; a compressed graph using any other is refused. Empty when the
 *     profile declares none, and then nothing is checked
 */
public record HardwareProfile(String id, String description, Set<Precision> precisions,
        QuantizedFormat quantizedFormat, String executionProvider, OptionalLong memoryBudgetBytes,
        OptionalLong sizeBudgetBytes, OptionalDouble latencyBudgetMillis, double maxAccuracyDrop, int batchSize,
        int threads, OptionalDouble minMeanCosine, OptionalDouble minWorstCosine, boolean requireRealData,
        Optional<Set<String>> operators) {

    /** A profile with the default fidelity floors, accepting results judged on generated inputs. */
    public HardwareProfile(String id, String description, Set<Precision> precisions, QuantizedFormat quantizedFormat,
            String executionProvider, OptionalLong memoryBudgetBytes, OptionalLong sizeBudgetBytes,
            OptionalDouble latencyBudgetMillis, double maxAccuracyDrop, int batchSize, int threads) {
        this(id, description, precisions, quantizedFormat, executionProvider, memoryBudgetBytes, sizeBudgetBytes,
                latencyBudgetMillis, maxAccuracyDrop, batchSize, threads, OptionalDouble.empty(), OptionalDouble.empty(),
                false);
    }

    /** A profile that declares no operator list. */
    public HardwareProfile(String id, String description, Set<Precision> precisions, QuantizedFormat quantizedFormat,
            String executionProvider, OptionalLong memoryBudgetBytes, OptionalLong sizeBudgetBytes,
            OptionalDouble latencyBudgetMillis, double maxAccuracyDrop, int batchSize, int threads,
            OptionalDouble minMeanCosine, OptionalDouble minWorstCosine, boolean requireRealData) {
        this(id, description, precisions, quantizedFormat, executionProvider, memoryBudgetBytes, sizeBudgetBytes,
                latencyBudgetMillis, maxAccuracyDrop, batchSize, threads, minMeanCosine, minWorstCosine, requireRealData,
                Optional.empty());
    }

    public HardwareProfile {
        Objects.requireNonNull(id, "id is null");
        Objects.requireNonNull(description, "description is null");
        Objects.requireNonNull(precisions, "precisions is null");
        // Enum order, not Set.copyOf: its iteration order changes from JVM to JVM, and a profile is
        // part of identities (digests, event ids) that must be the same in every process.
        precisions = precisions.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(precisions));
        Objects.requireNonNull(quantizedFormat, "quantizedFormat is null");
        Objects.requireNonNull(executionProvider, "executionProvider is null");
        Objects.requireNonNull(memoryBudgetBytes, "memoryBudgetBytes is null");
        Objects.requireNonNull(sizeBudgetBytes, "sizeBudgetBytes is null");
        Objects.requireNonNull(latencyBudgetMillis, "latencyBudgetMillis is null");
        Objects.requireNonNull(minMeanCosine, "minMeanCosine is null");
        Objects.requireNonNull(minWorstCosine, "minWorstCosine is null");
        Objects.requireNonNull(operators, "operators is null");
        // Sorted for the same reason as the precisions: the profile is part of identities.
        operators = operators.map(names -> Collections.unmodifiableSet(new TreeSet<>(names)));
    }


    public boolean runs(Precision precision) {
        return precisions.contains(precision);
    }
}
