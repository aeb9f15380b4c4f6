package io.modelpress.plugins.distillation;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The model whose outputs a retraining step learns to match. The original, the model the chain
 * started from, when the host names it and it takes the same input and scores the same classes as
 * the model being trained: after pruning or sharing, the input's own outputs are the damage itself,
 * so matching them recovers nothing (and a mix with labels would pull towards the damaged outputs).
 * Otherwise the model being trained, and the reason.
 *
 * @param model the model whose outputs are the soft targets
 * @param teacher its input and score output
 * @param original whether that model is the original
 * @param source where the targets come from, in words, for the step's report
 */
record Targets(OnnxModel model, Teacher teacher, boolean original, String source) {

    Targets {
        Objects.requireNonNull(model, "model is null");
        Objects.requireNonNull(teacher, "teacher is null");
        Objects.requireNonNull(source, "source is null");
    }

    /**
     * @param given the model the step trains
     * @param scores its input and score output
     * @param original the model the chain started from, if the host says
     */
    static Targets of(OnnxModel given, Teacher scores, Optional<OnnxModel> original) {
        if (original.isEmpty()) {
            return new Targets(given, scores, false, "this step's input model (the host names no original model)");
        }
        if (original.get() == given) {
            return new Targets(given, scores, true, "the original model, which is this step's input (no step ran before"
                    + " it)");
        }
        Teacher start;
        try {
            start = TeacherAnalysis.scoreModel(original.get());
        } catch (PluginException e) {
            return fallback(given, scores, e.getMessage());
        }
        Optional<String> mismatch = mismatch(start, scores);
        if (mismatch.isPresent()) {
            return fallback(given, scores, mismatch.get());
        }
        return new Targets(original.get(), start, true, "the original model, the one the chain started from (not"
                + " this step's input, which the steps before changed)");
    }

    private static Targets fallback(OnnxModel given, Teacher scores, String reason) {
        return new Targets(given, scores, false, "this step's input model: the original cannot teach it, " + reason);
    }

    /** Why the original's outputs do not fit the model being trained, if they do not. */
    private static Optional<String> mismatch(Teacher original, Teacher given) {
        if (!original.inputName().equals(given.inputName()) || original.inputType() != given.inputType()
                || !original.inputDims().equals(given.inputDims())) {
            return Optional.of("it takes input '" + original.inputName() + "' " + original.inputType().label()
                    + original.inputShapeText() + " and this step's input takes '" + given.inputName() + "' "
                    + given.inputType().label() + given.inputShapeText());
        }
        OptionalLong originalClasses = classes(original);
        OptionalLong givenClasses = classes(given);
        if (originalClasses.isPresent() && givenClasses.isPresent()
                && originalClasses.getAsLong() != givenClasses.getAsLong()) {
            return Optional.of("it scores " + originalClasses.getAsLong() + " classes and this step's input "
                    + givenClasses.getAsLong());
        }
        return Optional.empty();
    }

    /** The declared number of scores per row: the last dim of the score output, when fixed. */
    private static OptionalLong classes(Teacher teacher) {
        List<OptionalLong> dims = TeacherAnalysis.dims(teacher.output());
        return dims.isEmpty() ? OptionalLong.empty() : dims.get(dims.size() - 1);
    }
}
