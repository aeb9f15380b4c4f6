package io.modelpress.bridge.registry;

/**
 * The tag names the bridge reads from a model version (what to compress for) and writes back (what
 * came of it). All begin with {@code modelpress.}; no other tag is written, and these are not copied
 * into the event's labels.
 */
public final class Tags {

    public static final String PREFIX = "modelpress.";

    // read: the request
    /** Profile ids, separated by commas or spaces. */
    public static final String PROFILES = "modelpress.profiles";
    public static final String MAX_ACCURACY_DROP = "modelpress.max_accuracy_drop";
    public static final String MAX_SIZE_BYTES = "modelpress.max_size_bytes";
    public static final String MAX_MEMORY_BYTES = "modelpress.max_memory_bytes";
    public static final String MAX_LATENCY_MS = "modelpress.max_latency_ms";
    /** Chain steps separated by spaces, each ID or ID:key=value,... */
    public static final String CHAIN = "modelpress.chain";
    /** s3:// URIs of .npz data. */
    public static final String CALIBRATION = "modelpress.calibration_data";
    public static final String EVALUATION = "modelpress.evaluation_data";

    // written: the whole version
    /** {@code published}, or {@code failed} with {@link #REASON}. */
    public static final String STATUS = "modelpress.status";
    public static final String REASON = "modelpress.reason";
    /** Where modelpress reads the model from (the copy in its bucket). */
    public static final String SOURCE_URI = "modelpress.artifact_uri";

    // written: per profile, modelpress.<profile>.<field>
    public static final String STATUS_FIELD = "status";
    public static final String ARTIFACT_FIELD = "artifact_uri";
    public static final String REPORT_FIELD = "report_uri";
    public static final String SIZE_RATIO_FIELD = "size_ratio";
    public static final String DROP_FIELD = "drop";
    public static final String JUDGED_BY_FIELD = "judged_by";
    public static final String MET_BUDGET_FIELD = "met_budget";
    public static final String REASON_FIELD = "reason";
    public static final String REGISTERED_FIELD = "registered_version";

    /** The label that marks an event's model as an MLflow version, so results find their way back. */
    public static final String REGISTRY_LABEL = "modelpress.registry";

    private Tags() {
    }

    public static String profile(String profile, String field) {
        return PREFIX + profile + "." + field;
    }
}
