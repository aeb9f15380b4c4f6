package io.modelpress.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Generated token ids spread over the table they index; masks and flags stay 0 or 1. */
class InputGeneratorTest {

    private static final int VOCABULARY = 1000;

    /** ids → Gather from a [1000, 8] table; mask, an integer input that indexes nothing, → Cast and Mul. */
    private static OnnxModel embedding() {
        GraphProto graph = GraphProto.newBuilder()
                .setName("embedding")
                .addInput(Nodes.tensorValue("ids", DataType.INT64, "batch", "sequence"))
                .addInput(Nodes.tensorValue("mask", DataType.INT64, "batch", "sequence"))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", "sequence", 8))
                .addOutput(Nodes.tensorValue("m", DataType.FLOAT, "batch", "sequence"))
                .addInitializer(TestModels.floats("table", new SplittableRandom(1), VOCABULARY, 8))
                .addNode(Nodes.node("Gather", "lookup", List.of("table", "ids"), List.of("y")))
                .addNode(Nodes.node("Cast", "to_float", List.of("mask"), List.of("m"), Nodes.attr("to", 1L)))
                .build();
        return TestModels.model(graph);
    }

    @Test
    void idsAreDrawnOverTheTableTheyIndexAndOtherIntegersStayZeroOrOne() {
        OnnxModel model = embedding();
        Map<String, Long> bounds = InputGenerator.indexBounds(model);
        assertEquals(Map.of("ids", (long) VOCABULARY), bounds);

        Map<String, InputSpec> specs;
        try (OrtRunner runner = OrtRunner.open(model)) {
            specs = runner.inputSpecs();
        }
        List<Map<String, TensorData>> samples = new InputGenerator(1, 64).withIndexBounds(bounds).generate(specs, 4, 7);
        long largestId = 0;
        for (Map<String, TensorData> sample : samples) {
            LongBuffer ids = sample.get("ids").data().asLongBuffer();
            while (ids.hasRemaining()) {
                long id = ids.get();
                assertTrue(id >= 0 && id < VOCABULARY, "id " + id);
                largestId = Math.max(largestId, id);
            }
            LongBuffer mask = sample.get("mask").data().asLongBuffer();
            while (mask.hasRemaining()) {
                long flag = mask.get();
                assertTrue(flag == 0 || flag == 1, "mask " + flag);
            }
        }
        assertTrue(largestId > VOCABULARY / 2, "ids spread over the vocabulary, the largest " + largestId);
    }
}
