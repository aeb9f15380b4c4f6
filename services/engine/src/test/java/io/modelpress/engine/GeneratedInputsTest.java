package io.modelpress.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.SaveOptions;
import io.modelpress.model.Tensors;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without data, a model is compared on generated inputs long enough for it to run. */
class GeneratedInputsTest {

    @TempDir
    Path temp;

    /** x[batch, samples] → reflect padding of 40 on each side (needs more than 40 samples) → mean. */
    private static GraphProto paddedWindow() {
        return GraphProto.newBuilder()
                .setName("padded-window")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", "samples"))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 1))
                .addInitializer(Tensors.ofInt64("pads", new long[] {4}, new long[] {0, 40, 0, 40}))
                .addNode(Nodes.node("Pad", "reflect", List.of("x", "pads"), List.of("padded"), Nodes.attr("mode", "reflect")))
                .addNode(Nodes.node("ReduceMean", "mean", List.of("padded"), List.of("y"), Nodes.attr("axes", new long[] {1})))
                .build();
    }

    @Test
    void aModelThatNeedsLongerInputsIsMeasuredOnLongerOnes() {
        Path model = temp.resolve("window.onnx");
        TestModels.model(paddedWindow()).save(model, SaveOptions.inline());

        CompressionReport.FidelityReport fidelity = Evaluator.fidelity(model, model, Evaluator.Data.none());

        assertTrue(fidelity.unavailable().isEmpty(), fidelity.toString());
        assertTrue(fidelity.data().contains("others 512"), "32 samples are too few for a padding of 40: " + fidelity.data());
        assertEquals(1.0, fidelity.outputs().get(0).meanCosine(), 1e-9, "the model against itself");
    }

    @Test
    void aModelThatRunsOnShortInputsKeepsThem() {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(8, 16, 3, 1).save(model, SaveOptions.inline());

        CompressionReport.FidelityReport fidelity = Evaluator.fidelity(model, model, Evaluator.Data.none());

        assertTrue(fidelity.data().contains("others 32"), fidelity.data());
        assertEquals(1, fidelity.outputs().size());
    }
}
