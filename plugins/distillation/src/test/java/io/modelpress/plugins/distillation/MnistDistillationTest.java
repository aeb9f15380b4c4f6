package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistDistillationTest {

    private final DistillationPlugin plugin = new DistillationPlugin();

    @Test
    void distilsTheMnistMlpIntoAFourTimesSmallerStudentThatKeepsItsAccuracy(@TempDir Path temp) throws Exception {
        OnnxModel teacher = MnistModels.mlp();
        byte[] before = teacher.toByteArray();
        TestContext context = new TestContext(MnistModels.calibration("pixels", 0, 8000, 100), temp);
        PluginOptions options = PluginOptions.resolve(plugin.options(), Map.of("epochs", "12"));

        PluginResult result = plugin.apply(teacher, options, context);
        result.changes().forEach(System.out::println);
        System.out.println(result.figures());

        double teacherAccuracy = MnistModels.accuracy(teacher, 8000, 10000);
        double studentAccuracy = MnistModels.accuracy(result.model(), 8000, 10000);
        System.out.printf("teacher %.4f student %.4f%n", teacherAccuracy, studentAccuracy);
        assertTrue(teacherAccuracy - studentAccuracy <= 0.015, "student " + studentAccuracy + " vs teacher " + teacherAccuracy);
        assertTrue(result.figures().get("teacher-parameters") >= 4 * result.figures().get("student-parameters"));
    }
}
