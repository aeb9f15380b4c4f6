package io.modelpress.engine;

import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;

/**
 * Which data tunes a chain and which judges it; no example does both, so every drop is measured
 * out of sample.
 *
 * <p>The rule: labelled evaluation data, when given, judges, and all calibration data tunes (keep
 * the two files apart). Calibration data alone is split by sample: the samples are shuffled with a
 * fixed seed ({@link #SEED}) and the first third (rounded up) judges, the rest tunes; a single
 * sample only judges. With no data, generated inputs judge and nothing tunes.
 *
 * @param judgedOn {@link #LABELLED}, {@link #REAL} or {@link #GENERATED}
 * @param tuning what the plugins may calibrate on
 * @param judge the inputs fidelity is measured on (the evaluation data's when given); empty for generated inputs
 * @param labelled labelled data accuracy is measured on, if any
 * @param rule the split in one sentence, for the report
 */
public record Judging(String judgedOn, Optional<CalibrationData> tuning, Optional<CalibrationData> judge,
        Optional<CalibrationData> labelled, String rule) {

    public static final String LABELLED = "labelled-data";
    public static final String REAL = "real-data";
    public static final String GENERATED = "generated-inputs";
    public static final long SEED = 20261207L;

    public Judging {
        Objects.requireNonNull(judgedOn, "judgedOn is null");
        Objects.requireNonNull(tuning, "tuning is null");
        Objects.requireNonNull(judge, "judge is null");
        Objects.requireNonNull(labelled, "labelled is null");
        Objects.requireNonNull(rule, "rule is null");
    }

    public static Judging of(Optional<CalibrationData> calibration, Optional<CalibrationData> evaluation) {
        if (evaluation.isPresent()) {
            return new Judging(LABELLED, calibration, evaluation, evaluation, "the labelled evaluation data judges ("
                    + evaluation.get().size() + " samples); " + calibration.map(data -> "all " + data.size()
                    + " calibration samples tune").orElse("nothing tunes (no calibration data)"));
        }
        if (calibration.isEmpty()) {
            return new Judging(GENERATED, Optional.empty(), Optional.empty(), Optional.empty(),
                    "no data: generated inputs judge and nothing tunes");
        }
        CalibrationData data = calibration.get();
        int size = data.size();
        if (size < 2) {
            return new Judging(REAL, Optional.empty(), calibration, Optional.empty(),
                    "one calibration sample, too few to split: it judges and nothing tunes");
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new Random(SEED));
        int judging = (size + 2) / 3;
        List<Integer> judgeIndices = order.subList(0, judging).stream().sorted().toList();
        List<Integer> tuneIndices = order.subList(judging, size).stream().sorted().toList();
        return new Judging(REAL, Optional.of(subset(data, tuneIndices)), Optional.of(subset(data, judgeIndices)),
                Optional.empty(), "calibration samples shuffled with seed " + SEED + ": " + judging + " of " + size
                        + " judge, the other " + (size - judging) + " tune");
    }

    /** Whether real data judged: generated inputs say nothing about the inputs a model will see. */
    public boolean verified() {
        return !judgedOn.equals(GENERATED);
    }

    public int tuningSamples() {
        return tuning.map(CalibrationData::size).orElse(0);
    }

    public int judgingSamples() {
        return judge.map(CalibrationData::size).orElse(0);
    }

    /** What goes into the report. */
    public CompressionReport.JudgingReport report(int generatedSamples) {
        return new CompressionReport.JudgingReport(judgedOn, verified(), rule, tuningSamples(),
                judge.isPresent() ? judgingSamples() : generatedSamples);
    }

    private static CalibrationData subset(CalibrationData data, List<Integer> indices) {
        List<Map<String, TensorData>> samples = new ArrayList<>();
        List<TensorData> labels = new ArrayList<>();
        boolean labelled = true;
        for (int index : indices) {
            samples.add(data.sample(index));
            Optional<TensorData> label = data.labels(index);
            labelled &= label.isPresent();
            label.ifPresent(labels::add);
        }
        return labelled ? CalibrationData.of(samples, labels) : CalibrationData.of(samples);
    }
}
