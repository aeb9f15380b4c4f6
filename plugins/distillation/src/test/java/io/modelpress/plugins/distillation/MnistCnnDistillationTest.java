package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistCnnDistillationTest {

    private final DistillationPlugin plugin = new DistillationPlugin();

    @Test
    void distilsACnnDigitClassifierIntoADepthwiseSeparableStudent(@TempDir Path temp) throws Exception {
        OnnxModel teacher = MnistTeachers.cnn();
        double teacherAccuracy = MnistTeachers.accuracy(teacher, 8000, 10000, MnistTeachers.IMAGE);
        PluginTestContext context = PluginTestContext.in(temp)
                .withCalibration(MnistTeachers.digits(0, 4000, 100, MnistTeachers.IMAGE, true));
        PluginOptions options = PluginOptions.resolve(plugin.options(), Map.of("epochs", "4", "mixup", "0"));

        PluginResult result = plugin.apply(teacher, options, context);
        result.changes().forEach(System.out::println);

        OnnxModel student = result.model();
        Set<String> ops = student.proto().getGraph().getNodeList().stream().map(NodeProto::getOpType)
                .collect(Collectors.toSet());
        boolean depthwise = student.proto().getGraph().getNodeList().stream()
                .anyMatch(node -> node.getOpType().equals("Conv") && Nodes.intAttribute(node, "group", 1) > 1);
        assertTrue(ops.containsAll(Set.of("Conv", "GlobalAveragePool", "Gemm")), "student ops " + ops);
        assertTrue(depthwise, "the student has a depthwise convolution");
        assertEquals(teacher.proto().getGraph().getInput(0), student.proto().getGraph().getInput(0));
        assertEquals(teacher.proto().getGraph().getOutput(0), student.proto().getGraph().getOutput(0));
        assertTrue(result.figures().get("teacher-parameters") >= 4 * result.figures().get("student-parameters"));

        double studentAccuracy = MnistTeachers.accuracy(student, 8000, 10000, MnistTeachers.IMAGE);
        System.out.printf("CNN teacher %.4f student %.4f%n", teacherAccuracy, studentAccuracy);
        // a few epochs on half the digits: far above chance, not yet the teacher's accuracy
        assertTrue(studentAccuracy > 0.8, "student accuracy " + studentAccuracy);
    }
}
