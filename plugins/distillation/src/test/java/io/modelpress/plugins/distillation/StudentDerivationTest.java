package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How teachers are read and which students they get, without training. */
class StudentDerivationTest {

    @Test
    void readsTheLayerWidthsOfAnMlpTeacherKeptInExternalData(@TempDir Path temp) throws Exception {
        Path file = temp.resolve("teacher.onnx");
        MnistModels.mlp().save(file, SaveOptions.external("weights"));
        OnnxModel loaded = OnnxModel.load(file);
        assertTrue(loaded.hadExternalData());

        Teacher teacher = TeacherAnalysis.analyse(loaded);
        assertEquals(Teacher.Kind.MLP, teacher.kind());
        assertArrayEquals(new int[] {256, 128}, teacher.hiddenWidths());
        assertEquals(Activation.RELU, teacher.activation());
        assertEquals(784L * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, teacher.parameters());
    }

    @Test
    void readsAnMlpWhoseWeightsAreConstantNodes() throws Exception {
        Teacher teacher = TeacherAnalysis.analyse(TestModels.mlpWithConstantNodes(12, 32, 5, 1));
        assertEquals(Teacher.Kind.MLP, teacher.kind());
        assertArrayEquals(new int[] {32}, teacher.hiddenWidths());
    }

    @Test
    void scalesAnMlpStudentByWidthAndDepth() throws Exception {
        Teacher teacher = TeacherAnalysis.analyse(MnistModels.mlp());
        Student automatic = StudentPlanner.plan(teacher, MnistTeachers.FLAT, 10, 0.25, 0);
        Student deeper = StudentPlanner.plan(teacher, MnistTeachers.FLAT, 10, 0.25, 2);

        assertEquals("MLP 784-64-10 with Relu", automatic.description());
        assertEquals(784 * 64 + 64 + 64 * 10 + 10, automatic.parameters());
        assertEquals("MLP 784-64-32-10 with Relu", deeper.description());
    }

    @Test
    void givesACnnTeacherADepthwiseSeparableStudentThatSeesTheWholeImage() throws Exception {
        Teacher teacher = TeacherAnalysis.analyse(MnistTeachers.cnn());
        assertEquals(Teacher.Kind.CNN, teacher.kind());
        assertArrayEquals(new int[] {256}, teacher.convChannels());

        Student student = StudentPlanner.plan(teacher, MnistTeachers.IMAGE, 10, 0.25, 0);
        List<Layer.Conv> convs = student.layers().stream().filter(Layer.Conv.class::isInstance)
                .map(Layer.Conv.class::cast).toList();
        // stem, then per block a depthwise 3x3 and a pointwise 1x1: 28 -> 14 -> 7 -> 4 -> 2 pixels
        assertEquals(1 + 2 * 3, convs.size());
        assertEquals(new Layer.Conv(1, 64, 3, 2, 1), convs.get(0));
        assertEquals(new Layer.Conv(64, 64, 3, 2, 64), convs.get(1));
        assertEquals(new Layer.Conv(64, 64, 1, 1, 1), convs.get(2));
        assertTrue(convs.stream().mapToInt(Layer.Conv::stride).filter(s -> s == 2).count() == 4);
        assertEquals(new Layer.Dense(64, 10), student.layers().get(student.layers().size() - 1));
    }

    @Test
    void readsAConvBatchNormClassifierAsACnn() throws Exception {
        Teacher teacher = TeacherAnalysis.analyse(TestModels.cnn(24, 5, 1));
        assertEquals(Teacher.Kind.CNN, teacher.kind());
        assertArrayEquals(new int[] {24}, teacher.convChannels());
    }
}
