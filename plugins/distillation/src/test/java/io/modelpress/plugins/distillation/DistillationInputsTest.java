package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Inputs distillation cannot work with: each a one-line reason, and the model left as it was. */
class DistillationInputsTest {

    private final DistillationPlugin plugin = new DistillationPlugin();
    private final PluginOptions defaults = PluginOptions.resolve(plugin.options(), Map.of());

    @TempDir
    Path temp;

    @Test
    void refusesToWorkWithoutTransferData() {
        String message = refusal(MnistModels.mlp(), defaults, PluginTestContext.in(temp));
        assertTrue(message.startsWith("no transfer set:") && message.contains("input 'pixels'"), message);
    }

    @Test
    void refusesTransferDataWhoseRowsDoNotFitTheTeachersInput() {
        CalibrationData narrow = CalibrationData.of(List.of(Map.of("pixels",
                TensorData.ofFloats(new long[] {4, 100}, new float[400]))));
        String message = refusal(MnistModels.mlp(), defaults, PluginTestContext.in(temp).withCalibration(narrow));
        assertTrue(message.contains("shape [4,100]") && message.contains("teacher takes [?,784]"), message);
    }

    @Test
    void refusesTransferDataForAnotherInput() {
        CalibrationData other = MnistTeachers.digits(0, 100, 100, MnistTeachers.FLAT, true);
        CalibrationData renamed = CalibrationData.of(List.of(Map.of("image", other.sample(0).get("pixels"))));
        String message = refusal(MnistModels.mlp(), defaults, PluginTestContext.in(temp).withCalibration(renamed));
        assertTrue(message.contains("[image]") && message.contains("teacher's input is 'pixels'"), message);
    }

    @Test
    void refusesATeacherWhoseOutputIsClassIdsNotScores() {
        OnnxModel classIds = withHead(TestModels.mlp(8, 16, 4, 1), "ArgMax", DataType.INT64, "batch");
        String message = refusal(classIds, defaults, context(8));
        assertTrue(message.contains("'y' is int64, not floating-point class scores"), message);
    }

    @Test
    void refusesATeacherWithIndependentSigmoidOutputs() {
        OnnxModel sigmoid = withHead(TestModels.mlp(8, 16, 4, 1), "Sigmoid", DataType.FLOAT, "batch", 4);
        String message = refusal(sigmoid, defaults, context(8));
        assertTrue(message.contains("comes from a Sigmoid"), message);
    }

    @Test
    void refusesATeacherWithOneValuePerRow() {
        String message = refusal(TestModels.mlp(8, 16, 1, 1), defaults, context(8));
        assertTrue(message.contains("holds a single value per row"), message);
    }

    @Test
    void refusesARealDetectorWhoseOutputIsOneProbability() {
        OnnxModel wakeWord = OnnxModel.load(RealModels.WAKEWORD.copyTo(temp));
        String message = refusal(wakeWord, defaults, PluginTestContext.in(temp));
        assertTrue(message.contains("holds a single value per row, not scores over classes"), message);
    }

    @Test
    void refusesAStudentThatWouldNotBeSmallerThanTheTeacher() {
        PluginOptions wide = PluginOptions.resolve(plugin.options(), Map.of("width-multiplier", "1", "depth", "3"));
        CalibrationData digits = MnistTeachers.digits(0, 200, 100, MnistTeachers.FLAT, true);
        String message = refusal(MnistModels.mlp(), wide, PluginTestContext.in(temp).withCalibration(digits));
        assertTrue(message.contains("is not smaller than the teacher (235,146 parameters)")
                && message.contains("lower option 'width-multiplier'"), message);
    }

    @Test
    void rejectsAWidthMultiplierAboveOne() {
        assertThrows(OptionException.class,
                () -> PluginOptions.resolve(plugin.options(), Map.of("width-multiplier", "1.5")));
    }

    @Test
    void derivesNoStudentForAModelWithSubgraphs() {
        String message = refusal(TestModels.withIfSubgraph(8, 4, 1), defaults, PluginTestContext.in(temp));
        assertTrue(message.startsWith("no student can be derived for this model: it has If subgraphs"), message);
    }

    @ParameterizedTest
    @EnumSource(value = RealModels.class, names = {"SILERO_VAD_V4", "SILERO_VAD_V5", "OCR_RECOGNIZER"})
    void derivesNoStudentForRecurrentOrAttentionModels(RealModels real) {
        OnnxModel model = OnnxModel.load(real.copyTo(temp));
        String message = refusal(model, defaults, PluginTestContext.in(temp));
        assertTrue(message.startsWith("no student can be derived for this model")
                && message.endsWith("the model is left unchanged"), message);
    }

    /** Applies the plugin expecting a refusal; checks the message is one line and the model untouched. */
    private String refusal(OnnxModel model, PluginOptions options, PluginTestContext context) {
        byte[] before = model.toByteArray();
        PluginException error = assertThrows(PluginException.class, () -> plugin.apply(model, options, context));
        System.out.println(error.getMessage());
        assertTrue(error.getMessage().lines().count() == 1, error.getMessage());
        assertArrayEquals(before, model.toByteArray());
        return error.getMessage();
    }

    /** A context with a little random transfer data for a model with input x f32[batch, features]. */
    private PluginTestContext context(int features) {
        float[] values = new float[32 * features];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble();
        }
        return PluginTestContext.in(temp).withCalibration(CalibrationData.of(List.of(Map.of("x",
                TensorData.ofFloats(new long[] {32, features}, values)))));
    }

    /** The model with {@code head} applied to its output 'y', which becomes the new output 'y'. */
    private static OnnxModel withHead(OnnxModel model, String head, DataType type, Object... dims) {
        GraphProto graph = model.proto().getGraph();
        GraphProto.Builder changed = graph.toBuilder().clearNode().clearOutput()
                .addOutput(Nodes.tensorValue("y", type, dims));
        graph.getNodeList().forEach(node -> changed.addNode(node.toBuilder().clearOutput()
                .addAllOutput(node.getOutputList().stream().map(name -> name.equals("y") ? "scores" : name).toList())));
        changed.addNode(head.equals("ArgMax")
                ? Nodes.node(head, "head", List.of("scores"), List.of("y"), Nodes.attr("axis", 1L),
                        Nodes.attr("keepdims", 0L))
                : Nodes.node(head, "head", List.of("scores"), List.of("y")));
        return TestModels.model(changed.build());
    }
}
