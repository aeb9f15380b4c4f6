package io.modelpress.spi;

/** The family a plugin's technique belongs to; the planner combines families into chains. */
public enum Technique {
    QUANTIZATION,
    PRUNING,
    LOW_RANK,
    WEIGHT_SHARING,
    DISTILLATION,
    FEATURE_SELECTION,
    GRAPH_OPTIMIZATION,
    PACKAGING;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
