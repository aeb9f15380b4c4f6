package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistDistillationTest {

    private final DistillationPlugin plugin = new DistillationPlugin();

    @Test
    void distilsTheMnistMlpIntoAFourTimesSmallerStudentThatKeepsItsAccuracy(@TempDir Path temp) throws Exception {
        OnnxModel teacher = MnistModels.mlp();
        byte[] before = teacher.toByteArray();
        PluginTestContext context = PluginTestContext.in(temp)
                .withCalibration(MnistModels.calibration("pixels", 0, MnistModels.TRAIN, 100));
        // 0.28 of the teacher's widths: 72 hidden units, the widest one-layer student with 4x fewer parameters.
        // Larger batches and more mixtures than the defaults keep the run to a few seconds of training.
        PluginOptions options = PluginOptions.resolve(plugin.options(), Map.of("width-multiplier", "0.28",
                "epochs", "8", "batch-size", "128", "learning-rate", "0.005", "mixup", "2"));

        PluginResult result = plugin.apply(teacher, options, context);
        result.changes().forEach(System.out::println);

        OnnxModel student = result.model();
        long teacherParameters = teacher.weights().totalElements();
        long studentParameters = student.weights().totalElements();
        assertTrue(teacherParameters >= 4 * studentParameters, studentParameters + " vs " + teacherParameters);
        assertEquals(studentParameters, result.figures().get("student-parameters"));
        assertEquals(student.serializedSize(), result.figures().get("student-bytes"));

        GraphProto teacherGraph = teacher.proto().getGraph();
        GraphProto studentGraph = student.proto().getGraph();
        assertEquals(teacherGraph.getInputList(), studentGraph.getInputList(), "the teacher's input, as declared");
        assertEquals(teacherGraph.getOutputList(), studentGraph.getOutputList(), "the teacher's output, as declared");

        // both measured in ONNX Runtime on digits neither saw in training
        double teacherAccuracy = MnistModels.accuracy(teacher, MnistModels.TRAIN, 10000);
        double studentAccuracy = MnistModels.accuracy(student, MnistModels.TRAIN, 10000);
        System.out.printf("held-out digits: teacher %.4f student %.4f%n", teacherAccuracy, studentAccuracy);
        assertTrue(teacherAccuracy - studentAccuracy <= 0.015,
                "student " + studentAccuracy + " vs teacher " + teacherAccuracy);
        assertTrue(result.figures().get("holdout-agreement") > 0.9, "agreement " + result.figures());
        assertTrue(result.figures().get("training-seconds") > 0);
        assertTrue(Arrays.equals(before, teacher.toByteArray()), "the teacher is left as it was");
    }
}
