package io.modelpress.plugins.quantization;

import io.modelpress.model.DataType;
import io.modelpress.spi.TensorData;
import java.util.List;
import java.util.Map;

/** Output cosine of a candidate against reference outputs: how the automatic mode judges a mix. */
final class Fidelities {

    private Fidelities() {
    }

    /** The worst, over float outputs, of the cosine averaged over samples (1 when there is nothing to compare). */
    static double worstMeanCosine(List<Map<String, TensorData>> reference, List<Map<String, TensorData>> candidate) {
        double worst = 1;
        for (String output : reference.get(0).keySet()) {
            if (reference.get(0).get(output).type() != DataType.FLOAT) {
                continue;
            }
            double sum = 0;
            for (int s = 0; s < reference.size(); s++) {
                sum += cosine(reference.get(s).get(output).toFloats(), candidate.get(s).get(output).toFloats());
            }
            worst = Math.min(worst, sum / reference.size());
        }
        return worst;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        if (aa == 0 && bb == 0) {
            return 1;
        }
        double cosine = dot / Math.sqrt(aa * bb);
        return Double.isNaN(cosine) ? 0 : cosine;
    }
}
