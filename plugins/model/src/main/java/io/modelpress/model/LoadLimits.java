package io.modelpress.model;

/**
 * How large a model may be before loading refuses it. The model file itself is bounded by
 * protobuf (2 GiB); external data is bounded so that one model cannot exhaust the heap.
 *
 * @param maxModelFileBytes largest model.onnx accepted
 * @param maxTotalBytes largest model file plus external data accepted
 */
public record LoadLimits(long maxModelFileBytes, long maxTotalBytes) {

    public static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;

    public static final LoadLimits DEFAULT = new LoadLimits(PROTOBUF_LIMIT, 8L << 30);

    public LoadLimits {
        if (maxModelFileBytes <= 0 || maxModelFileBytes > PROTOBUF_LIMIT) {
            throw new IllegalArgumentException("maxModelFileBytes must be in (0, 2 GiB], not " + maxModelFileBytes);
        }
        if (maxTotalBytes < maxModelFileBytes) {
            throw new IllegalArgumentException("maxTotalBytes must be at least maxModelFileBytes");
        }
    }
}
