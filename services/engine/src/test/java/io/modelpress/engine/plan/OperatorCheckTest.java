package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.testkit.MnistModels;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A profile's declared operators and integer-only precisions bound the graphs it accepts. */
class OperatorCheckTest {

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT);
    private final HardwareProfile mcu = HardwareProfiles.builtIn().require("mcu");

    @Test
    void theMcuProfileDeclaresItsOperatorsAndOthersDeclareNone() {
        Set<String> listed = mcu.operators().orElseThrow();
        assertTrue(listed.containsAll(Set.of("QuantizeLinear", "DequantizeLinear", "Conv", "MatMul", "Gemm")), listed.toString());
        assertFalse(listed.contains("DynamicQuantizeLinear") || listed.contains("Gather")
                || listed.contains("BatchNormalization"), listed.toString());
        assertEquals(Optional.empty(), HardwareProfiles.builtIn().require("x86-vnni").operators());
    }

    @Test
    void operatorsOutsideTheListAreNamedWithTheirDomain() {
        HardwareProfile listing = floatProfile(Optional.of(Set.of("MatMul", "Relu")));
        OnnxModel model = graph(node("", "MatMul"), node("", "Relu"), node("com.microsoft", "FusedGemm"), node("", "Gather"));
        String violation = OperatorCheck.violation(model, listing).orElseThrow();
        assertTrue(violation.contains("Gather, com.microsoft.FusedGemm") && violation.contains("does not list"), violation);
        assertFalse(violation.contains("MatMul"), violation);

        OperatorCheck allowed = OperatorCheck.of(graph(node("", "MatMul"), node("ai.onnx", "Relu")), listing);
        assertEquals(Optional.empty(), allowed.violation(listing), "ai.onnx is the default domain");
        BudgetCheck check = allowed.budgetCheck(listing);
        assertEquals(BudgetCheck.MET, check.state());
        assertEquals("2 operators used: MatMul, Relu", check.actual().orElseThrow());
    }

    @Test
    void aProfileWithoutAListChecksNothingAndSaysSo() {
        HardwareProfile open = floatProfile(Optional.empty());
        OnnxModel model = graph(node("com.microsoft", "MatMulNBits"));
        assertEquals(Optional.empty(), OperatorCheck.violation(model, open));
        BudgetCheck check = OperatorCheck.budgetCheck(Optional.empty(), open);
        assertEquals(BudgetCheck.NOT_CHECKED, check.state());
        assertEquals("operators", check.budget());
    }

    @Test
    void subgraphOperatorsAreChecked() {
        NodeProto inner = node("", "Softplus");
        NodeProto branch = NodeProto.newBuilder().setOpType("If").addAttribute(ai.onnx.proto.OnnxMl.AttributeProto
                .newBuilder().setName("then_branch").setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.GRAPH)
                .setG(GraphProto.newBuilder().setName("then").addNode(inner))).build();
        String violation = OperatorCheck.violation(graph(branch), floatProfile(Optional.of(Set.of("If")))).orElseThrow();
        assertTrue(violation.contains("Softplus"), violation);
    }

    @Test
    void weightSharingAndDynamicQuantizationAreRefusedForTheMcuWhereStaticQdqIsNot() {
        Path model = MnistModels.copy(temp.resolve("in"));
        assertTrue(OperatorCheck.violation(OnnxModel.load(model), mcu).orElseThrow().contains("runs only int8"),
                "the fp32 original is not what an int8-only target runs");

        OnnxModel shared = compressed(model, mcu, "weight-sharing:bits=4", "shared");
        String violation = OperatorCheck.violation(shared, mcu).orElseThrow();
        assertTrue(violation.contains("compute in floating point") && violation.contains("profile 'mcu'"), violation);
        assertTrue(violation.contains("Gather"), "the codebook lookup is named: " + violation);

        OnnxModel dynamic = compressed(model, TestProfiles.cpu(), "int8-dynamic", "dynamic");
        String dynamicViolation = OperatorCheck.violation(dynamic, mcu).orElseThrow();
        assertTrue(dynamicViolation.contains("DynamicQuantizeLinear"), dynamicViolation);

        OnnxModel qdq = compressedWithData(model, "int8-static", "static");
        OperatorCheck check = OperatorCheck.of(qdq, mcu);
        assertEquals(Optional.empty(), check.violation(mcu), "static QDQ is what the mcu runs: " + check.used());
        assertTrue(check.used().contains("QuantizeLinear"), check.used().toString());
        assertEquals(Optional.empty(), OperatorCheck.violation(shared, TestProfiles.cpu()),
                "a profile that runs fp32 and lists nothing takes floating-point layers");
    }

    private OnnxModel compressed(Path model, HardwareProfile profile, String step, String folder) {
        engine.compress(new CompressionRequest(model, profile, List.of(ChainStep.parse(step)), temp.resolve(folder)),
                ProgressListener.NONE);
        return OnnxModel.load(temp.resolve(folder).resolve("model.onnx"));
    }

    private OnnxModel compressedWithData(Path model, String step, String folder) {
        String input = OnnxModel.load(model).proto().getGraph().getInput(0).getName();
        engine.compress(new CompressionRequest(model, mcu, List.of(ChainStep.parse(step)), temp.resolve(folder),
                Optional.of(MnistModels.calibration(input, 0, 64, 16)), Optional.empty(), Optional.empty()),
                ProgressListener.NONE);
        return OnnxModel.load(temp.resolve(folder).resolve("model.onnx"));
    }

    private static HardwareProfile floatProfile(Optional<Set<String>> operators) {
        return new HardwareProfile("listing", "a profile that lists its operators", EnumSet.of(Precision.FP32),
                QuantizedFormat.QDQ, "cpu", OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(), 1, 1, 0,
                OptionalDouble.empty(), OptionalDouble.empty(), false, operators);
    }

    private static NodeProto node(String domain, String op) {
        return NodeProto.newBuilder().setDomain(domain).setOpType(op).build();
    }

    private static OnnxModel graph(NodeProto... nodes) {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("g");
        for (NodeProto node : nodes) {
            graph.addNode(node);
        }
        return OnnxModel.of(ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(graph).build());
    }
}
