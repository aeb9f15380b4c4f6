package io.modelpress.plugins.distillation;

import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * Derives a compact student of the teacher's kind: for an MLP fewer and narrower dense layers, for
 * a CNN a small network of depthwise-separable blocks. Widths are the teacher's scaled by the
 * width multiplier, so the student keeps the teacher's proportions.
 */
final class StudentPlanner {

    /** Fewest channels of a CNN student's first convolution: fewer learn too little to be worth it. */
    private static final int MIN_STEM_CHANNELS = 4;
    /** Most depthwise-separable blocks chosen automatically. */
    private static final int MAX_AUTO_BLOCKS = 4;
    /** A convolution downsamples (stride 2) while the feature map is at least this large. */
    private static final int DOWNSAMPLE_FROM = 4;
    /** Fewest depthwise-separable blocks chosen automatically: fewer see too little of the image before pooling. */
    private static final int MIN_AUTO_BLOCKS = 2;
    /** Channels assumed for a CNN teacher whose Conv weights are computed rather than stored. */
    private static final int FALLBACK_CHANNELS = 32;

    private StudentPlanner() {
    }

    /**
     * @param depth hidden layers (MLP) or depthwise-separable blocks (CNN); 0 chooses automatically
     */
    static Student plan(Teacher teacher, long[] rowShape, int classes, double widthMultiplier, int depth)
            throws PluginException {
        Student student = teacher.kind() == Teacher.Kind.MLP
                ? mlp(teacher, rowShape, classes, widthMultiplier, depth)
                : cnn(teacher, rowShape, classes, widthMultiplier, depth);
        if (student.parameters() >= teacher.parameters()) {
            throw new PluginException(String.format(Locale.ROOT,
                    "the requested student (%s, %,d parameters) is not smaller than the teacher (%,d parameters);"
                            + " lower option 'width-multiplier' (now %s) or 'depth' (now %s)",
                    student.description(), student.parameters(), teacher.parameters(), widthMultiplier,
                    depth == 0 ? "0 = automatic" : Integer.toString(depth)));
        }
        return student;
    }

    private static Student mlp(Teacher teacher, long[] rowShape, int classes, double multiplier, int depth) {
        int[] teacherHidden = teacher.hiddenWidths();
        int layers = depth > 0 ? depth : Math.max(1, teacherHidden.length - 1);
        List<Layer> student = new ArrayList<>();
        if (rowShape.length > 1) {
            student.add(new Layer.Flatten());
        }
        int features = Math.toIntExact(Arrays.stream(rowShape).reduce(1, Math::multiplyExact));
        StringJoiner widths = new StringJoiner("-", "MLP ", " with " + teacher.activation().opType());
        widths.add(Integer.toString(features));
        int previous = features;
        for (int i = 0; i < layers; i++) {
            // spread the student's layers evenly over the teacher's, widest first
            int source = teacherHidden[Math.min(teacherHidden.length - 1, i * teacherHidden.length / layers)];
            int width = Math.max(1, (int) Math.round(source * multiplier));
            student.add(new Layer.Dense(previous, width));
            student.add(new Layer.Activate(teacher.activation()));
            widths.add(Integer.toString(width));
            previous = width;
        }
        student.add(new Layer.Dense(previous, classes));
        widths.add(Integer.toString(classes));
        return new Student(student, widths.toString());
    }

    private static Student cnn(Teacher teacher, long[] rowShape, int classes, double multiplier, int depth) {
        int[] channels = teacher.convChannels();
        int first = channels.length > 0 ? channels[0] : FALLBACK_CHANNELS;
        int widest = channels.length > 0 ? Arrays.stream(channels).max().getAsInt() : FALLBACK_CHANNELS;
        int stem = Math.max(MIN_STEM_CHANNELS, (int) Math.round(first * multiplier));
        int target = Math.max(stem, (int) Math.round(widest * multiplier));
        long height = rowShape[1];
        long width = rowShape[2];

        List<Layer> student = new ArrayList<>();
        int stride = stride(height, width);
        student.add(new Layer.Conv(Math.toIntExact(rowShape[0]), stem, 3, stride, 1));
        student.add(new Layer.Activate(Activation.RELU));
        height = shrink(height, stride);
        width = shrink(width, stride);
        int blocks = depth > 0 ? depth : autoBlocks(height, width);
        int current = stem;
        for (int b = 0; b < blocks; b++) {
            stride = stride(height, width);
            int next = Math.min(target, current * 2);
            student.add(new Layer.Conv(current, current, 3, stride, current));
            student.add(new Layer.Activate(Activation.RELU));
            student.add(new Layer.Conv(current, Math.max(current, next), 1, 1, 1));
            student.add(new Layer.Activate(Activation.RELU));
            height = shrink(height, stride);
            width = shrink(width, stride);
            current = Math.max(current, next);
        }
        student.add(new Layer.GlobalAveragePool());
        student.add(new Layer.Flatten());
        student.add(new Layer.Dense(current, classes));
        String description = "CNN: Conv 3x3 " + rowShape[0] + "->" + stem + ", " + blocks
                + " depthwise-separable block" + (blocks == 1 ? "" : "s") + " to " + current
                + " channels, global average pool, dense " + current + "->" + classes;
        return new Student(student, description);
    }

    /**
     * As many blocks as it takes to downsample the feature map to a few pixels, so that the pooled
     * features have seen the whole image, within [MIN_AUTO_BLOCKS, MAX_AUTO_BLOCKS].
     */
    private static int autoBlocks(long height, long width) {
        int blocks = 0;
        while (stride(height, width) == 2) {
            blocks++;
            height = shrink(height, 2);
            width = shrink(width, 2);
        }
        return Math.max(MIN_AUTO_BLOCKS, Math.min(MAX_AUTO_BLOCKS, blocks));
    }

    private static int stride(long height, long width) {
        return Math.min(height, width) >= DOWNSAMPLE_FROM ? 2 : 1;
    }

    private static long shrink(long size, int stride) {
        return (size + stride - 1) / stride;
    }
}
