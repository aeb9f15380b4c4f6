package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Shapes;
import io.modelpress.model.Tensors;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Teachers beyond MNIST: a real exported CNN, and an MLP whose input and output are float16. */
class OtherTeachersTest {

    private final DistillationPlugin plugin = new DistillationPlugin();

    @TempDir
    Path temp;

    @Test
    void distilsARealCnnWithConstantNodeWeightsAndASoftmaxHead() throws Exception {
        OnnxModel teacher = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp));
        ValueInfoProto input = teacher.proto().getGraph().getInput(0);
        long[] rowShape = {3, 48, 192};
        CalibrationData data = randomData(input.getName(), DataType.FLOAT, rowShape, 6, 16);

        PluginResult result = plugin.apply(teacher, options(), PluginTestContext.in(temp).withCalibration(data));
        result.changes().forEach(System.out::println);

        assertStudentReplaces(teacher, result.model(), data);
        assertTrue(result.figures().get("student-parameters") < result.figures().get("teacher-parameters"));
    }

    @Test
    void keepsTheFloat16InputAndOutputOfATeacher() throws Exception {
        OnnxModel teacher = float16Io(TestModels.mlp(12, 32, 5, 1));
        CalibrationData data = randomData("x16", DataType.FLOAT16, new long[] {12}, 8, 32);

        PluginResult result = plugin.apply(teacher, options(), PluginTestContext.in(temp).withCalibration(data));

        assertStudentReplaces(teacher, result.model(), data);
    }

    /** The student declares the teacher's input and output and gives outputs of the same type and shape in ORT. */
    private static void assertStudentReplaces(OnnxModel teacher, OnnxModel student, CalibrationData data) {
        GraphProto t = teacher.proto().getGraph();
        GraphProto s = student.proto().getGraph();
        assertEquals(t.getInputList(), s.getInputList());
        assertEquals(t.getOutputList(), s.getOutputList());
        try (OrtRunner teacherRunner = OrtRunner.open(teacher); OrtRunner studentRunner = OrtRunner.open(student)) {
            String output = t.getOutput(0).getName();
            TensorData expected = teacherRunner.run(data.sample(0)).get(output);
            TensorData actual = studentRunner.run(data.sample(0)).get(output);
            assertEquals(expected.type(), actual.type());
            assertEquals(List.of(expected.shape()[0], expected.shape()[1]), List.of(actual.shape()[0], actual.shape()[1]));
        }
    }

    private PluginOptions options() {
        return PluginOptions.resolve(plugin.options(), Map.of("epochs", "1", "mixup", "0"));
    }

    /** x16 f16[batch, in] -> Cast -> the float MLP -> Cast -> y16 f16[batch, out], as mixed-precision exports are. */
    private static OnnxModel float16Io(OnnxModel model) {
        GraphProto graph = model.proto().getGraph();
        ValueInfoProto x = graph.getInput(0);
        ValueInfoProto y = graph.getOutput(0);
        List<Object> inDims = dims(x);
        List<Object> outDims = dims(y);
        GraphProto.Builder changed = graph.toBuilder().clearInput().clearOutput()
                .addInput(Nodes.tensorValue("x16", DataType.FLOAT16, inDims.toArray()))
                .addOutput(Nodes.tensorValue("y16", DataType.FLOAT16, outDims.toArray()))
                .addNode(0, Nodes.node("Cast", "in_cast", List.of("x16"), List.of(x.getName()),
                        Nodes.attr("to", (long) DataType.FLOAT.code())))
                .addNode(Nodes.node("Cast", "out_cast", List.of(y.getName()), List.of("y16"),
                        Nodes.attr("to", (long) DataType.FLOAT16.code())));
        return TestModels.model(changed.build());
    }

    private static List<Object> dims(ValueInfoProto value) {
        List<Object> dims = new ArrayList<>();
        value.getType().getTensorType().getShape().getDimList()
                .forEach(dim -> dims.add(dim.hasDimValue() ? (Object) dim.getDimValue() : dim.getDimParam()));
        return dims;
    }

    /** {@code samples} samples of {@code rows} rows of uniform values in [0, 1). */
    private static CalibrationData randomData(String name, DataType type, long[] rowShape, int samples, int rows) {
        SplittableRandom random = new SplittableRandom(5);
        long[] shape = new long[rowShape.length + 1];
        shape[0] = rows;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        int count = Math.toIntExact(Shapes.elementCount(shape));
        List<Map<String, TensorData>> data = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = (float) random.nextDouble();
            }
            TensorData tensor = type == DataType.FLOAT ? TensorData.ofFloats(shape, values)
                    : new TensorData(type, shape, Tensors.ofFloat16("x", shape, values).getRawData().asReadOnlyByteBuffer());
            data.add(Map.of(name, tensor));
        }
        return CalibrationData.of(data);
    }
}
