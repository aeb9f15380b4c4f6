package io.modelpress.model;

/**
 * How a model is written.
 *
 * @param externalData whether large tensors go to a data file beside the model
 * @param dataFileName name of that file, in the model's folder
 * @param minExternalBytes tensors at least this large go to the data file
 */
public record SaveOptions(boolean externalData, String dataFileName, long minExternalBytes) {

    /** Above this, a model must keep its tensors outside the protobuf file. */
    public static final long INLINE_LIMIT = 1L << 30;

    public SaveOptions {
        if (externalData && (dataFileName == null || dataFileName.isBlank() || dataFileName.contains("/")
                || dataFileName.contains("\\") || dataFileName.equals("..") || dataFileName.equals("."))) {
            throw new IllegalArgumentException("external data file name must be a plain file name, not '" + dataFileName + "'");
        }
    }

    public static SaveOptions inline() {
        return new SaveOptions(false, null, 0);
    }

    public static SaveOptions external(String dataFileName) {
        return new SaveOptions(true, dataFileName, 1024);
    }
}
