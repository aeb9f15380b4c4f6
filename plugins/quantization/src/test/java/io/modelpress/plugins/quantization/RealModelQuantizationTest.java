package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.DataType;
import io.modelpress.model.Weight;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.testkit.RealModels;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The six real models of the test kit under int8 for a CPU that prefers integer operators: each
 * shrinks, loads and runs in ONNX Runtime, keeps its outputs on held-out realistic inputs, and
 * every float weight of 1,024 elements or more is quantized or named in the result with a reason.
 */
class RealModelQuantizationTest {

    @TempDir
    Path folder;

    @ParameterizedTest
    @EnumSource(RealModels.class)
    void int8ShrinksLoadsAndKeepsTheOutputs(RealModels real) throws Exception {
        RealModelRun run = RealModelRun.of(real, folder, new Int8DynamicPlugin(), RealModelRun.int8Options(real),
                QuantizedFormat.OPERATOR);

        double minRatio = real == RealModels.OCR_CLASSIFIER ? 2.2 : 3.0;
        assertTrue(run.sizeRatio() >= minRatio, real + " shrinks " + run.sizeRatio() + "x");
        for (OutputFidelity output : run.fidelity()) {
            assertTrue(output.meanCosine() >= 0.99, real + ": " + output);
        }
        Set<Weight.Ref> stillFloat = new HashSet<>();
        run.result().model().weights().all().stream().filter(w -> w.type() == DataType.FLOAT).forEach(w -> stillFloat.add(w.ref()));
        for (Weight weight : run.original().weights().all()) {
            if (weight.type() == DataType.FLOAT && weight.elements() >= 1024 && stillFloat.contains(weight.ref())) {
                assertTrue(run.result().skipped().stream().anyMatch(s -> s.part().contains("'" + weight.ref() + "'")),
                        real + ": float weight " + weight.ref() + " is left without a reason in " + run.result().skipped());
            }
        }
    }
}
