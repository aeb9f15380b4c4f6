package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.Graphs;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Helpers the plugin tests share: inputs, op counts, opset changes, fidelity in ONNX Runtime. */
final class Models {

    private Models() {
    }

    /** A context on a CPU profile that runs fp32, int8 and int4 and prefers {@code format}. */
    static PluginTestContext context(QuantizedFormat format) {
        return PluginTestContext.in(Path.of(System.getProperty("java.io.tmpdir")))
                .withProfile(PluginTestContext.profile(format, Precision.FP32, Precision.INT8, Precision.INT4));
    }

    static OnnxModel withOpset(OnnxModel model, int opset) {
        ModelProto.Builder builder = model.proto().toBuilder().clearOpsetImport()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset));
        return OnnxModel.of(builder.build());
    }

    static int count(OnnxModel model, String opType) {
        int[] count = {0};
        Graphs.forEach(model.proto(), (path, graph) -> {
            for (NodeProto node : graph.getNodeList()) {
                if (node.getOpType().equals(opType)) {
                    count[0]++;
                }
            }
        });
        return count[0];
    }

    static List<String> domainsOf(OnnxModel model, String opType) {
        List<String> domains = new ArrayList<>();
        Graphs.forEach(model.proto(), (path, graph) -> graph.getNodeList().stream()
                .filter(node -> node.getOpType().equals(opType)).forEach(node -> domains.add(node.getDomain())));
        return domains;
    }

    static long opset(OnnxModel model, String domain) {
        return model.proto().getOpsetImportList().stream().filter(o -> o.getDomain().equals(domain))
                .mapToLong(OperatorSetIdProto::getVersion).findFirst().orElse(-1);
    }

    static TensorData uniform(SplittableRandom random, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return TensorData.ofFloats(shape, values);
    }

    static List<Map<String, TensorData>> samples(String input, int count, long seed, long... shape) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            samples.add(Map.of(input, uniform(random, shape)));
        }
        return samples;
    }

    /** Runs both in ONNX Runtime and asserts every output keeps at least {@code minCosine}. */
    static List<OutputFidelity> assertClose(OnnxModel original, OnnxModel quantized, List<Map<String, TensorData>> samples,
            double minCosine) {
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(quantized)) {
            List<OutputFidelity> fidelity = Fidelity.compare(before, after, samples);
            for (OutputFidelity output : fidelity) {
                assertTrue(output.minCosine() >= minCosine, output.toString());
            }
            return fidelity;
        }
    }
}
