package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.UnsafeByteOperations;
import io.modelpress.model.DataType;
import io.modelpress.model.HalfFloats;
import io.modelpress.model.Shapes;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.PluginContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/** Reads and converts float32 weights, tensor by tensor in parallel, straight from their raw bytes. */
final class WeightConverter {

    /** Weights per batch between progress reports and cancellation checks. */
    private static final int BATCH = 32;

    /** What conversion made: the half tensors and what they cost. */
    record Converted(Map<Weight.Ref, TensorProto> tensors, long bytesBefore, long bytesAfter, long flushedToZero) {
    }

    private WeightConverter() {
    }

    /** A weight value that is NaN or infinite: where it is and what it holds. */
    record NonFinite(Weight.Ref weight, int index, float value) {
    }

    /**
     * What a scan of the float32 weights found: those with a finite value beyond the half type's
     * range, with their largest magnitude (bfloat16 has float32's range, so none overflow it), and
     * the first NaN or infinite value in index order, if any.
     */
    record Ranges(Map<Weight.Ref, Float> overflowing, Optional<NonFinite> nonFinite) {
    }

    static Ranges scan(WeightIndex index, HalfType type, PluginContext context, double from, double to) {
        List<Weight> weights = floatWeights(index);
        Map<Weight.Ref, Float> overflowing = new ConcurrentHashMap<>();
        Map<Weight.Ref, NonFinite> nonFinite = new ConcurrentHashMap<>();
        forEachBatch(weights, context, from, to, "checking weight ranges", weight -> {
            TensorProto tensor = index.tensor(weight.ref());
            FloatBuffer values = tensor.hasRawData()
                    ? Tensors.raw(tensor, DataType.FLOAT, Tensors.elementCount(tensor)).asFloatBuffer()
                    : FloatBuffer.wrap(Tensors.toFloats(tensor));
            float max = 0;
            for (int i = 0, n = values.limit(); i < n; i++) {
                float value = values.get(i);
                if (!Float.isFinite(value)) {
                    nonFinite.put(weight.ref(), new NonFinite(weight.ref(), i, value));
                    return;
                }
                max = Math.max(max, Math.abs(value));
            }
            if (max > type.maxFinite()) {
                overflowing.put(weight.ref(), max);
            }
        });
        Optional<NonFinite> first = weights.stream().map(w -> nonFinite.get(w.ref())).filter(Objects::nonNull).findFirst();
        return new Ranges(Map.copyOf(overflowing), first);
    }

    static Converted convert(WeightIndex index, List<Weight.Ref> refs, HalfType type, PluginContext context,
            double from, double to) {
        List<Weight> weights = new ArrayList<>();
        refs.forEach(ref -> weights.add(index.get(ref).orElseThrow()));
        Map<Weight.Ref, TensorProto> tensors = new ConcurrentHashMap<>();
        long[] flushed = new long[weights.size()];
        Map<Weight.Ref, Integer> position = new HashMap<>();
        for (int i = 0; i < weights.size(); i++) {
            position.put(weights.get(i).ref(), i);
        }
        forEachBatch(weights, context, from, to, "converting weights to " + type.label(), weight -> {
            TensorProto tensor = index.tensor(weight.ref());
            long[] zeroed = new long[1];
            tensors.put(weight.ref(), halve(tensor, type, zeroed));
            flushed[position.get(weight.ref())] = zeroed[0];
        });
        long before = weights.stream().mapToLong(Weight::bytes).sum();
        long after = tensors.values().stream().mapToLong(Tensors::byteSize).sum();
        long zeroes = 0;
        for (long count : flushed) {
            zeroes += count;
        }
        return new Converted(Map.copyOf(tensors), before, after, zeroes);
    }

    private static List<Weight> floatWeights(WeightIndex index) {
        return index.all().stream().filter(w -> w.type() == DataType.FLOAT).toList();
    }

    private interface WeightTask {
        void run(Weight weight);
    }

    private static void forEachBatch(List<Weight> weights, PluginContext context, double from, double to,
            String message, WeightTask task) {
        for (int start = 0; start < weights.size(); start += BATCH) {
            context.checkCancelled();
            context.progress(from + (to - from) * start / Math.max(1, weights.size()),
                    message + " (" + start + " of " + weights.size() + ")");
            int end = Math.min(weights.size(), start + BATCH);
            IntStream.range(start, end).parallel().forEach(i -> task.run(weights.get(i)));
        }
        context.checkCancelled();
    }

    /** The tensor in {@code type}, rounded to nearest even; counts non-zero values that became zero. */
    private static TensorProto halve(TensorProto tensor, HalfType type, long[] flushedToZero) {
        int n = Shapes.arrayLength(tensor.getName(), Tensors.elementCount(tensor));
        FloatBuffer values = tensor.hasRawData()
                ? Tensors.raw(tensor, DataType.FLOAT, n).asFloatBuffer()
                : FloatBuffer.wrap(Tensors.toFloats(tensor));
        byte[] bytes = new byte[n * 2];
        ByteBuffer out = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long zeroed = 0;
        boolean fp16 = type == HalfType.FP16;
        for (int i = 0; i < n; i++) {
            float value = values.get(i);
            short half = fp16 ? HalfFloats.floatToHalf(value) : HalfFloats.floatToBfloat16(value);
            if ((half & 0x7fff) == 0 && value != 0) {
                zeroed++;
            }
            out.putShort(i * 2, half);
        }
        flushedToZero[0] = zeroed;
        TensorProto.Builder builder = TensorProto.newBuilder().setName(tensor.getName())
                .setDataType(type.dataType().code()).addAllDims(tensor.getDimsList())
                .setRawData(UnsafeByteOperations.unsafeWrap(bytes));
        if (tensor.hasDocString()) {
            builder.setDocString(tensor.getDocString());
        }
        return builder.build();
    }
}
