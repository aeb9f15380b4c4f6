package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EarlyStoppingTest {

    @Test
    void keepsTheEpochWithTheBestAgreementAndStopsAfterPatienceEpochsWithoutBetter() {
        EarlyStopping stopping = new EarlyStopping(2);
        assertTrue(stopping.record(1, 0.80, 0.5));
        assertTrue(stopping.record(2, 0.90, 0.4));
        assertFalse(stopping.record(3, 0.90, 0.45), "same agreement, higher loss: not better");
        assertFalse(stopping.exhausted(3));
        assertFalse(stopping.record(4, 0.85, 0.3));
        assertTrue(stopping.exhausted(4));
        assertEquals(2, stopping.bestEpoch());
        assertEquals(0.90, stopping.bestAgreement());
    }

    @Test
    void breaksTiesOnAgreementByTheLowerLoss() {
        EarlyStopping stopping = new EarlyStopping(1);
        stopping.record(1, 0.9, 0.5);
        assertTrue(stopping.record(2, 0.9, 0.4));
        assertEquals(2, stopping.bestEpoch());
        assertFalse(stopping.exhausted(2));
    }

    @Test
    void aPatienceOfZeroNeverStops() {
        EarlyStopping stopping = new EarlyStopping(0);
        stopping.record(1, 0.9, 0.1);
        for (int epoch = 2; epoch < 50; epoch++) {
            stopping.record(epoch, 0.1, 9);
            assertFalse(stopping.exhausted(epoch));
        }
    }
}
