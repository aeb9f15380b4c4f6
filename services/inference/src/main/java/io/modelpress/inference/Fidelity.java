package io.modelpress.inference;

import io.modelpress.model.DataType;
import io.modelpress.model.ModelException;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.TensorData;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Compares a compressed model's outputs with the original's on the same inputs. */
public final class Fidelity {

    private Fidelity() {
    }

    /** Runs both models on every sample and measures each output the original has. */
    public static List<OutputFidelity> compare(ModelRunner original, ModelRunner compressed,
            List<Map<String, TensorData>> samples) {
        Map<String, Accumulator> byOutput = new LinkedHashMap<>();
        for (Map<String, TensorData> sample : samples) {
            Map<String, TensorData> expected = original.run(sample);
            Map<String, TensorData> actual = compressed.run(sample);
            for (Map.Entry<String, TensorData> entry : expected.entrySet()) {
                TensorData other = actual.get(entry.getKey());
                if (other == null) {
                    throw new ModelException("the compressed model has no output '" + entry.getKey() + "'");
                }
                byOutput.computeIfAbsent(entry.getKey(), Accumulator::new).add(entry.getValue(), other);
            }
        }
        List<OutputFidelity> result = new ArrayList<>();
        byOutput.values().forEach(accumulator -> result.add(accumulator.result()));
        return result;
    }

    /** Values of a floating-point tensor as floats. */
    static float[] toFloatArray(TensorData tensor) {
        double[] values = values(tensor);
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    /** Values of a numeric tensor as doubles. */
    static double[] values(TensorData tensor) {
        int n = Math.toIntExact(tensor.elementCount());
        double[] out = new double[n];
        ByteBuffer data = tensor.data();
        for (int i = 0; i < n; i++) {
            out[i] = switch (tensor.type()) {
                case FLOAT -> data.getFloat(i * 4);
                case DOUBLE -> data.getDouble(i * 8);
                case FLOAT16 -> io.modelpress.model.HalfFloats.halfToFloat(data.getShort(i * 2));
                case BFLOAT16 -> io.modelpress.model.HalfFloats.bfloat16ToFloat(data.getShort(i * 2));
                case INT64 -> data.getLong(i * 8);
                case INT32 -> data.getInt(i * 4);
                case INT8 -> data.get(i);
                case UINT8, BOOL -> data.get(i) & 0xff;
                default -> throw new ModelException("output of type " + tensor.type().label() + " cannot be compared");
            };
        }
        return out;
    }

    private static final class Accumulator {
        private final String name;
        private double cosineSum;
        private double minCosine = Double.POSITIVE_INFINITY;
        private double maxAbs;
        private double absSum;
        private long elements;
        private double diffSquares;
        private double refSquares;
        private long rows;
        private long agreeingRows;
        private boolean scores = true;
        private int samples;
        private int widest;
        private double allDot;
        private double allExpected;
        private double allActual;
        private final Sequences sequences = new Sequences();

        Accumulator(String name) {
            this.name = name;
        }

        void add(TensorData expectedTensor, TensorData actualTensor) {
            double[] expected = values(expectedTensor);
            double[] actual = values(actualTensor);
            if (expected.length != actual.length) {
                throw new ModelException("output '" + name + "' has " + actual.length + " values in the compressed model but "
                        + expected.length + " in the original");
            }
            double dot = 0;
            double ee = 0;
            double aa = 0;
            for (int i = 0; i < expected.length; i++) {
                double e = expected[i];
                double a = actual[i];
                double diff = Math.abs(a - e);
                dot += e * a;
                ee += e * e;
                aa += a * a;
                maxAbs = Math.max(maxAbs, Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff);
                absSum += diff;
                diffSquares += diff * diff;
            }
            refSquares += ee;
            elements += expected.length;
            widest = Math.max(widest, expected.length);
            allDot += dot;
            allExpected += ee;
            allActual += aa;
            double cosine = cosine(dot, ee, aa);
            cosineSum += cosine;
            minCosine = Math.min(minCosine, cosine);
            samples++;
            countTop1(expectedTensor, expected, actual);
        }

        private void countTop1(TensorData tensor, double[] expected, double[] actual) {
            long[] shape = tensor.shape();
            boolean floating = tensor.type() == DataType.FLOAT || tensor.type() == DataType.FLOAT16
                    || tensor.type() == DataType.DOUBLE || tensor.type() == DataType.BFLOAT16;
            if (!floating || shape.length == 0 || shape[shape.length - 1] < 2) {
                scores = false;
                return;
            }
            int classes = (int) shape[shape.length - 1];
            if (shape.length > 2 && !rowsAreDistributions(expected, classes)) {
                // [batch, classes] is a classifier's; a higher rank is scores per position (a CTC head,
                // per-pixel classes) only when each row is a distribution, not hidden states or maps.
                scores = false;
                return;
            }
            int positions = shape.length == 3 ? (int) shape[1] : 0;
            int[] expectedBest = new int[expected.length / classes];
            int[] actualBest = new int[expectedBest.length];
            for (int row = 0; row < expectedBest.length; row++) {
                expectedBest[row] = argMax(expected, row * classes, classes);
                actualBest[row] = argMax(actual, row * classes, classes);
                rows++;
                if (expectedBest[row] == actualBest[row]) {
                    agreeingRows++;
                }
            }
            if (positions > 1) {
                sequences.add(expectedBest, actualBest, positions);
            }
        }

        private static boolean rowsAreDistributions(double[] values, int classes) {
            for (int row = 0; row + classes <= values.length; row += classes) {
                double sum = 0;
                for (int i = row; i < row + classes; i++) {
                    if (values[i] < -1e-6) {
                        return false;
                    }
                    sum += values[i];
                }
                if (Math.abs(sum - 1) > 1e-3) {
                    return false;
                }
            }
            return true;
        }

        /** Two all-zero vectors agree; a zero against a non-zero vector does not. */
        private static double cosine(double dot, double expectedSquares, double actualSquares) {
            if (expectedSquares == 0 && actualSquares == 0) {
                return 1;
            }
            double cosine = dot / Math.sqrt(expectedSquares * actualSquares);
            return Double.isNaN(cosine) ? 0 : cosine;
        }

        private static int argMax(double[] values, int from, int count) {
            int best = from;
            for (int i = from + 1; i < from + count; i++) {
                if (values[i] > values[best]) {
                    best = i;
                }
            }
            return best - from;
        }

        OutputFidelity result() {
            double relative = refSquares == 0 ? Math.sqrt(diffSquares) : Math.sqrt(diffSquares / refSquares);
            java.util.OptionalDouble top1 = scores && rows > 0
                    ? java.util.OptionalDouble.of((double) agreeingRows / rows) : java.util.OptionalDouble.empty();
            java.util.OptionalDouble agreement = scores ? sequences.agreement() : java.util.OptionalDouble.empty();
            java.util.OptionalDouble cer = scores ? sequences.characterErrorRate() : java.util.OptionalDouble.empty();
            if (widest == 1) {
                // The cosine of two one-value vectors is only their signs' agreement; across the
                // samples the values form a vector whose cosine says something.
                double cosine = cosine(allDot, allExpected, allActual);
                return new OutputFidelity(name, cosine, cosine, maxAbs, elements == 0 ? 0 : absSum / elements, relative,
                        top1, samples, agreement, cer);
            }
            return new OutputFidelity(name, cosineSum / samples, minCosine, maxAbs,
                    elements == 0 ? 0 : absSum / elements, relative, top1, samples, agreement, cer);
        }
    }
}
