package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CalibratorTest {

    /** 10,000 values spread evenly over the first 100 bins and one outlier at the top. */
    private static long[] histogramWithOutlier() {
        long[] histogram = new long[2048];
        for (int i = 0; i < 100; i++) {
            histogram[i] = 100;
        }
        histogram[2047] = 1;
        return histogram;
    }

    @Test
    void percentileDropsTheRareTail() {
        float threshold = Calibrator.percentileThreshold(histogramWithOutlier(), 2048f, 99.9);
        assertEquals(100f, threshold, 1f);
        assertEquals(2048f, Calibrator.percentileThreshold(histogramWithOutlier(), 2048f, 100), "100% keeps everything");
    }

    @Test
    void entropyClipsAnOutlierButKeepsTheBulk() {
        long[] bellWithOutlier = new long[2048];
        for (int i = 0; i < 200; i++) {
            bellWithOutlier[i] = Math.round(10000 * Math.exp(-i * i / (2.0 * 40 * 40)));
        }
        bellWithOutlier[2047] = 1;
        float threshold = Calibrator.entropyThreshold(bellWithOutlier, 2048f);
        assertTrue(threshold >= 100f && threshold < 512f, "threshold " + threshold);
    }
}
