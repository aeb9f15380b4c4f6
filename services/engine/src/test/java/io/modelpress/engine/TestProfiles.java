package io.modelpress.engine;

import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import java.util.EnumSet;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** Profiles made in code, so engine tests do not depend on the shipped profile files. */
public final class TestProfiles {

    private TestProfiles() {
    }

    public static HardwareProfile cpu() {
        return new HardwareProfile("test-cpu", "a CPU for tests", EnumSet.of(Precision.FP32, Precision.INT8),
                QuantizedFormat.OPERATOR, "cpu", OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(),
                1, 1, 1);
    }

    public static HardwareProfile fp16Only() {
        return new HardwareProfile("test-gpu", "a half-precision GPU for tests", EnumSet.of(Precision.FP16),
                QuantizedFormat.QDQ, "cuda", OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(),
                1, 1, 1);
    }
}
